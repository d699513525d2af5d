"""A cluster that lacks what the stack needs is named in one line before any resource, not after a
readiness timeout: checked against the real API server (in-process), and through the engine."""

from __future__ import annotations

import pytest

from config import ConfigError, from_settings, load
from platforms import preflight
from tests.conftest import stack_config
from tests.integration.conftest import Project, deploy_settings


def config_for(stack: str, cluster, tmp_path, **overrides):
    kubernetes = {"kubeconfig": str(cluster.kubeconfig), "namespace": "it-preflight", **overrides.pop("kubernetes", {})}
    config, _ = stack_config(stack, {"kubernetes": kubernetes, **overrides}, tmp_path)
    raw = from_settings(config)
    raw["kubernetes"].pop("renderYamlToDirectory", None)
    return load(raw)


def refused(cfg) -> str:
    with pytest.raises(ConfigError) as error:
        preflight.check(cfg)
    return str(error.value)


def test_a_storage_class_nobody_provides_is_named_with_the_fix(cluster, tmp_path):
    message = refused(config_for("local", cluster, tmp_path, storage={"storageClass": "rwx-nobody-has"}))
    assert message.startswith("appcluster:storage.storageClass: 'rwx-nobody-has' — the cluster has no StorageClass")
    assert "ReadWriteMany" in message and "\n" not in message


def test_a_waiting_volume_or_the_class_itself_satisfies_the_claim(cluster, tmp_path):
    from kubernetes import client

    storage = client.StorageV1Api(cluster.core.api_client)
    cluster.core.create_persistent_volume(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "preflight-rwx"},
            "spec": {
                "capacity": {"storage": "5Gi"},
                "accessModes": ["ReadWriteMany"],
                "storageClassName": "shared-rwx",
                "hostPath": {"path": "/tmp/preflight-rwx"},
            },
        }
    )
    # A default class makes the servers' class-less claims provisionable too.
    storage.create_storage_class(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "provisioner": "example.com/x",
            "metadata": {"name": "fast-rwo", "annotations": {preflight.DEFAULT_CLASS: "true"}},
        }
    )
    try:
        preflight.check(config_for("local", cluster, tmp_path, storage={"storageClass": "shared-rwx"}))
        preflight.check(config_for("local", cluster, tmp_path, storage={"storageClass": "fast-rwo"}))
    finally:
        # The session's cluster is shared: a default class would change what later claims get.
        storage.delete_storage_class("fast-rwo")
        cluster.core.delete_persistent_volume("preflight-rwx")


def test_efs_without_its_csi_driver_and_an_ingress_class_that_is_not_there(cluster, tmp_path):
    message = refused(config_for("prod-newapi", cluster, tmp_path))
    assert "appcluster:storage.mode: 'efs' — the cluster has no CSIDriver efs.csi.aws.com" in message
    message = refused(
        config_for(
            "local",
            cluster,
            tmp_path,
            loadBalancer={"ingress": {"enabled": True, "host": "api.example.com", "className": "nginx"}},
        )
    )
    assert "appcluster:loadBalancer.ingress.className: 'nginx' — the cluster has no IngressClass" in message


def test_an_unreachable_cluster_is_one_line(cluster, tmp_path):
    kubeconfig = tmp_path / "gone.kubeconfig"
    kubeconfig.write_text(
        cluster.kubeconfig.read_text().replace(
            cluster.kubeconfig.read_text().split("server: ")[1].split('"')[1], "https://127.0.0.1:9"
        )
    )
    message = refused(config_for("local", cluster, tmp_path, kubernetes={"kubeconfig": str(kubeconfig)}))
    assert message.startswith("appcluster:kubernetes: cannot reach the cluster at https://127.0.0.1:9")


def test_the_engine_stops_before_any_resource(project: Project, cluster):
    deploy_settings(project, "local", cluster, "it-preflight-engine", **{"storage.storageClass": "rwx-nobody-has"})
    done = project.pulumi("preview", check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "appcluster:storage.storageClass: 'rwx-nobody-has' — the cluster has no StorageClass" in output
    assert "Traceback" not in output and "appcluster:index:" not in output
