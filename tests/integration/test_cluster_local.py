"""New API (the local stack) into the local control plane: a real deploy and a second one that changes
nothing, Pod Security enforced at the namespace's level, `protect` standing in the way of a destroy,
and a destroy that removes what it made while Retain volumes keep their data objects."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from tests.integration.conftest import Project, deploy_settings, provide_volumes

NS = "it-new-api"


@pytest.fixture(scope="module")
def local(tmp_path_factory, engine_bin, cluster) -> Project:
    from tests.conftest import copy_checkout

    project = Project(copy_checkout(tmp_path_factory.mktemp("local")), engine_bin)
    deploy_settings(project, "local", cluster, NS)
    provide_volumes(project, "local", cluster)
    return project


def test_local_deploys_for_real_and_a_second_up_changes_nothing(local, cluster):
    from tests.integration.test_engine import declared

    up = local.pulumi("up", "--yes", "--skip-preview")
    assert f"+ {declared(local, 'local')} created" in up.stdout
    pods = cluster.core.list_namespaced_pod(NS).items
    serving = [p for p in pods if p.metadata.labels.get("app.kubernetes.io/component") == "app"]
    assert len(serving) == 2 and all(
        any(c.type == "Ready" and c.status == "True" for c in p.status.conditions) for p in serving
    )
    slave = next(p for p in serving if p.metadata.labels["appcluster.io/role"] == "replicas")
    assert {e.name: e.value for e in slave.spec.containers[0].env}["NODE_TYPE"] == "slave"
    # Kept by the API server (PodLifecycleSleepAction, on by default since 1.30), not dropped as a disabled gate would:
    # New API exits at once on SIGTERM, so it drains for endpoint propagation + one batch interval first.
    assert slave.spec.containers[0].lifecycle.pre_stop.sleep.seconds == 15
    assert slave.spec.containers[0].args == ["--log-dir", "/app/logs"]
    assert "unchanged" in local.pulumi("up", "--yes", "--skip-preview").stdout
    local.pulumi("preview", "--expect-no-changes")


def test_the_namespace_enforces_its_pod_security_level(local, cluster):
    """Every pod we made was admitted (above); one that breaks baseline is refused by the API server."""
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": True}}]},
    }
    with pytest.raises(ApiException) as refused:
        cluster.core.create_namespaced_pod(NS, privileged)
    assert refused.value.status == 403
    assert 'violates PodSecurity "baseline:latest"' in json.loads(refused.value.body)["message"]


def test_protect_stops_destroy_and_without_it_destroy_removes_all_but_retained_data(local, cluster):
    local.pulumi("config", "set", "--type", "bool", "appcluster:protect", "true")
    local.pulumi("up", "--yes", "--skip-preview")
    refused = local.pulumi("destroy", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and "protected" in refused.stdout + refused.stderr
    assert cluster.apps.read_namespaced_stateful_set("new-api-database", NS)

    volumes_before = {
        pv.metadata.name
        for pv in cluster.core.list_persistent_volume().items
        if pv.spec.claim_ref and pv.spec.claim_ref.namespace == NS
    }
    local.pulumi("config", "set", "--type", "bool", "appcluster:protect", "false")
    local.pulumi("up", "--yes", "--skip-preview")
    local.pulumi("destroy", "--yes", "--skip-preview")
    left = json.loads(local.pulumi("stack", "export").stdout)["deployment"].get("resources") or []
    assert not [r["urn"] for r in left if r["type"] != "pulumi:pulumi:Stack"]
    with pytest.raises(ApiException) as gone:
        cluster.core.read_namespace(NS)
    assert gone.value.status == 404
    # The data volumes outlive the stack (Retain): released, not deleted.
    after = {pv.metadata.name: pv for pv in cluster.core.list_persistent_volume().items}
    assert volumes_before and volumes_before <= set(after)
    assert all(after[name].spec.persistent_volume_reclaim_policy == "Retain" for name in volumes_before)
