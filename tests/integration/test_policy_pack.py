"""`pulumi preview --policy-pack policies`: the pack a PR pipeline runs, with the real analyzer."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Project


def preview_with_pack(project: Project, cwd=None, config=None):
    args = ["preview", "--policy-pack", str(project.root / "policies")]
    if config:
        args += ["--policy-pack-config", str(project.root / "policies" / "config" / config)]
    return project.pulumi(*args, cwd=cwd, check=False)


def test_example_stack_passes_the_pack(project):
    project.stack("local")
    for key in ("sessionSecret", "cryptoSecret", "databasePassword", "redisPassword"):
        project.pulumi("config", "set", "--secret", "--path", f"appcluster:secrets.{key}", "x" * 40)
    done = preview_with_pack(project, config="local.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restricted-pod-security" in done.stdout  # advisory, reported but not failing
    assert "mandatory" not in done.stdout


@pytest.mark.parametrize(
    "case,policy,via",
    [
        ("too-many-replicas", "max-32-instances", "resources"),
        ("literal-secret", "shared-secrets", "resources"),
        ("new-api-two-masters", "one-primary", "resources"),
        # Objects the provider decodes or renders itself: the real analyzer sees them as the offline check does.
        ("too-many-replicas", "max-32-instances", "configgroup-v2"),
        ("literal-secret", "shared-secrets", "helm-v4"),
    ],
)
def test_violating_program_fails_with_the_policy_name(project, case, policy, via):
    program = project.root / "tests" / "fixtures" / "handwritten"
    project.stack(f"{case}-{via}", cwd=program)
    project.pulumi("config", "set", "handwritten:case", case, cwd=program)
    project.pulumi("config", "set", "handwritten:via", via, cwd=program)
    done = preview_with_pack(project, cwd=program)
    assert done.returncode != 0
    assert "[mandatory]" in done.stdout and policy in done.stdout
