"""The private SDK names the toolbox and the policy pack lean on (tools/offline/sdk.py) still mean
what we use them for. An SDK upgrade that breaks one fails here, by name, not deep in a run."""

from __future__ import annotations

import re
import sys
from importlib.metadata import version

import pulumi
import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from tests.conftest import REPO
from tools.offline import harness, sdk


def test_the_installed_sdks_are_the_range_the_names_were_checked_against():
    pins = dict(re.findall(r"^([a-z-]+)==([\d.]+)$", (REPO / "requirements.txt").read_text(), re.M))
    for package, (low, high) in sdk.SUPPORTED.items():
        for found in (version(package), pins[package]):
            assert low <= tuple(int(p) for p in found.split(".")[:2]) <= high, (package, found)


def test_a_program_runs_to_completion_and_its_resources_get_the_engines_urns(tmp_path):
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "class Box(pulumi.ComponentResource):\n"
        "    def __init__(self, name):\n"
        "        super().__init__('test:index:Box', name)\n"
        "        self.inner = pulumi.CustomResource('test:index:Thing', 'inner', {'secret': pulumi.Output.secret('s')},\n"
        "                                           opts=pulumi.ResourceOptions(parent=self))\n"
        "box = Box('box')\n"
        "pulumi.export('urn', box.inner.urn)\n"
    )
    run = harness.run_program(tmp_path, "contract", {}, [])
    inner = run.named("inner")
    # sync_await + run_pulumi_func finished the program; make_urn nests the parent's type.
    assert (
        inner.urn
        == run.outputs["urn"].value
        == "urn:pulumi:contract::" + tmp_path.name + "::test:index:Box$test:index:Thing::inner"
    )
    # The secret marker and its key: secret inputs are recognised, and revealed for a policy.
    assert harness.is_secret(inner.inputs["secret"]) and harness.reveal(inner.inputs) == {"secret": "s"}
    assert sdk.root_resource() is not None
    sdk.reset_root_resource()
    assert sdk.root_resource() is None


def test_source_positions_are_skipped_only_during_a_run():
    from pulumi.runtime import resource

    original = resource._get_stack_trace
    with sdk.without_source_positions():
        assert resource._get_stack_trace() == sdk._source.StackTrace()
    assert resource._get_stack_trace is original


def test_the_packs_reading_of_analyzer_proxies_sees_unknowns_instead_of_raising():
    sys.path.insert(0, str(REPO / "policies"))
    try:
        from appcluster_policies.workloads import UNKNOWN, plain
    finally:
        sys.path.remove(str(REPO / "policies"))
    props = sdk.unknown_checking_proxy({"spec": {"replicas": 3, "image": UNKNOWN_STRING_VALUE, "ports": [80]}})
    with pytest.raises(UnknownValueError):
        props["spec"]["image"]  # the analyzer's proxy raises on an unknown: why `plain` reads its target
    assert plain(props) == {"spec": {"replicas": 3, "image": UNKNOWN, "ports": [80]}}


def test_a_version_outside_the_range_is_refused_at_import_with_what_to_do(monkeypatch):
    import importlib

    monkeypatch.setattr("importlib.metadata.version", lambda package: "3.300.0" if package == "pulumi" else "1.21.0")
    with pytest.raises(
        ImportError, match=r"private names of pulumi 3\.259\.x to 3\.259\.x, and 3\.300\.0 is installed"
    ):
        importlib.reload(sdk)
    monkeypatch.undo()
    importlib.reload(sdk)
    assert pulumi.__name__ == "pulumi"
