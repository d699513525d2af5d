"""NocoBase (the dev stack) deployed for real into the local control plane, and the stop script's
cases run by a real kubectl as the upgrade Jobs' own ServiceAccount. Everything is read back from the
API server, not from Pulumi's output. What follows the first `up` (upgrades, maintenance, a grace
period change, with the Jobs run for real) is tests/integration/test_jobs_day_two.py.

The tests of this module run in order on one deployment (each step starts where the last ended)."""

from __future__ import annotations

import subprocess

import pytest

from components.kubernetes import upgrade
from tests.integration.conftest import Cluster, Project, dev_nocobase

NS = "it-nocobase"
# A release that runs more than one instance (from 2.1.24, profiles/nocobase.py).
OLD = "2.1.24"


@pytest.fixture(scope="module")
def dev(tmp_path_factory, engine_bin, cluster) -> Project:
    return dev_nocobase(tmp_path_factory.mktemp("dev"), engine_bin, cluster, NS, OLD)


def ready(cluster: Cluster, name: str) -> bool:
    d = cluster.apps.read_namespaced_deployment(name, NS)
    return (d.status.ready_replicas or 0) == d.spec.replicas


def test_dev_deploys_for_real_and_a_second_up_changes_nothing(dev, cluster):
    up = dev.pulumi("up", "--yes", "--skip-preview")
    assert "created" in up.stdout
    for name in ("nocobase-primary", "nocobase-replicas"):
        assert ready(cluster, name)
    for name in ("nocobase-redis", "nocobase-database"):
        assert cluster.apps.read_namespaced_stateful_set(name, NS).status.ready_replicas == 1
    claims = cluster.core.list_namespaced_persistent_volume_claim(NS).items
    assert claims and all(c.status.phase == "Bound" for c in claims)
    data = next(c for c in claims if c.metadata.name == "nocobase-data")
    assert data.spec.access_modes == ["ReadWriteMany"]
    # Pods spread over the three fake zones' nodes; every one admitted at the namespace's level.
    assert cluster.core.read_namespace(NS).metadata.labels["pod-security.kubernetes.io/enforce"] == "baseline"
    again = dev.pulumi("up", "--yes", "--skip-preview")
    assert "unchanged" in again.stdout and "created" not in again.stdout and "updated" not in again.stdout
    dev.pulumi("preview", "--expect-no-changes")


def run_script(cluster: Cluster, script: str, tmp_path) -> subprocess.CompletedProcess:
    """A Job's script, run by sh with a real kubectl acting as the Job's ServiceAccount in its namespace."""
    wrapper = tmp_path / "kubectl"
    wrapper.write_text(
        f"#!/bin/sh\nexec {cluster.kubectl_path} --kubeconfig {cluster.kubeconfig} "
        f'--as system:serviceaccount:{NS}:nocobase-upgrade --namespace {NS} "$@"\n'
    )
    wrapper.chmod(0o755)
    return subprocess.run(
        ["sh", "-c", script],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )


OTHERS = "app.kubernetes.io/instance=nocobase,app.kubernetes.io/component in (app,worker),appcluster.io/role!=primary"


def test_stop_script_first_install_stop_and_failure_with_the_jobs_own_rights(dev, cluster, tmp_path):
    # First install: nothing matches yet, so the Job succeeds at once and says why.
    empty = run_script(cluster, upgrade.stop_script(OTHERS + ",appcluster.io/none=yes", 30), tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert "nothing to stop" in empty.stdout
    # Upgrade: the replicas go to zero and their pods are gone before it succeeds; the primary stays.
    stop = run_script(cluster, upgrade.stop_script(OTHERS, 60), tmp_path)
    assert stop.returncode == 0, stop.stderr
    assert cluster.apps.read_namespaced_deployment("nocobase-replicas", NS).spec.replicas == 0
    assert not cluster.core.list_namespaced_pod(NS, label_selector=OTHERS).items
    assert cluster.apps.read_namespaced_deployment("nocobase-primary", NS).spec.replicas == 1
    # A pod that does not go away (no Deployment to scale) fails the Job, with the reason.
    cluster.kubectl(
        "-n",
        NS,
        "run",
        "straggler",
        "--image=busybox:1.36",
        "--restart=Never",
        "--labels=app.kubernetes.io/instance=nocobase,app.kubernetes.io/component=app,appcluster.io/role=x",
    )
    try:
        stuck = run_script(cluster, upgrade.stop_script(OTHERS, 2), tmp_path)
        assert stuck.returncode == 1
        assert "still running after 2s: pod/straggler" in stuck.stderr
    finally:
        cluster.kubectl("-n", NS, "delete", "pod", "straggler", "--wait=false")
    # Resume brings the stopped role back to its count, and leaves a running one alone.
    resume = run_script(cluster, upgrade.resume_script({"nocobase-replicas": 1, "nocobase-primary": 1}), tmp_path)
    assert resume.returncode == 0, resume.stderr
    assert cluster.apps.read_namespaced_deployment("nocobase-replicas", NS).spec.replicas == 1
    assert "nocobase-primary: already running" in resume.stdout
