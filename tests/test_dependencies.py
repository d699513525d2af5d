"""What the app depends on: shared secrets, Redis, the database, shared storage, the load balancer
and the network policies, in their in-cluster and external modes."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import env_of, k8s, secret_data, spec
from tools.offline.harness import is_secret, reveal

# -- SharedSecrets ----------------------------------------------------------------------------------


def test_secrets_are_generated_once_per_key_and_published_in_one_secret(run_stack):
    run = run_stack("dev")
    generated = {r.name: r for r in run.resources if r.type.startswith("random:")}
    assert set(generated) == {
        "shared-secrets-app-key",
        "shared-secrets-app-aes-secret-key",
        "shared-secrets-init-root-password",
        "shared-secrets-database-password",
        "shared-secrets-redis-password",
    }
    assert generated["shared-secrets-app-aes-secret-key"].inputs["length"] == 32  # 32 bytes -> 64 hex
    assert all(r.inputs.get("special") in (None, False) for r in generated.values())
    data = secret_data(run, "nocobase-shared")
    # The plugin platform's credentials come from config only (never generated).
    assert set(data) == {
        "APP_KEY",
        "APP_AES_SECRET_KEY",
        "INIT_ROOT_PASSWORD",
        "DATABASE_PASSWORD",
        "REDIS_PASSWORD",
        "NOCOBASE_PKG_USERNAME",
        "NOCOBASE_PKG_PASSWORD",
    }
    assert len(data["APP_AES_SECRET_KEY"]) == 64
    # Every value reaches the engine marked secret, so state holds it encrypted.
    assert is_secret(k8s(run, "Secret", "nocobase-shared").inputs["stringData"])


def test_secrets_from_config_replace_generation(run_stack):
    run = run_stack("local", secrets={"sessionSecret": "s" * 32, "cryptoSecret": "c" * 32})
    assert {r.name for r in run.resources if r.type.startswith("random:")} == {
        "shared-secrets-database-password",
        "shared-secrets-redis-password",
    }
    data = secret_data(run, "new-api-shared")
    assert (data["SESSION_SECRET"], data["CRYPTO_SECRET"]) == ("s" * 32, "c" * 32)


def test_no_secret_value_in_plain_outputs_or_non_secret_objects(run_stack):
    run = run_stack("dev")
    values = {v for name in ("nocobase-shared", "nocobase-connections") for v in secret_data(run, name).values()}
    for output in run.outputs.values():
        assert output.secret or str(output.value) not in values
    for r in run.resources:
        if r.is_kubernetes and r.inputs["kind"] == "Secret":
            continue
        text = str(reveal(r.inputs))
        if r.type.startswith("random:"):
            continue
        assert not any(v in text for v in values), f"a secret value appears in {r.type} {r.name}"


# -- Redis ------------------------------------------------------------------------------------------


def test_in_cluster_redis_keeps_its_data_and_password_out_of_the_manifest(run_stack):
    run = run_stack("dev", protect=True)
    sts = k8s(run, "StatefulSet", "nocobase-redis")
    s = spec(sts)
    c = s["template"]["spec"]["containers"][0]
    assert c["image"] == "redis:8.2.2"
    assert c["args"][:2] == ["--requirepass", "$(REDIS_PASSWORD)"] and "--appendonly" in c["args"]
    assert c["env"] == [
        {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "nocobase-shared", "key": "REDIS_PASSWORD"}}}
    ]
    assert s["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert s["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert sts.protect is True
    assert c["securityContext"]["runAsNonRoot"] is True and c["securityContext"]["readOnlyRootFilesystem"] is True
    svc = spec(k8s(run, "Service", "nocobase-redis"))
    assert svc["type"] == "ClusterIP" and svc["ports"][0]["port"] == 6379


def test_external_redis_urls_keep_tls_and_get_one_db_each(run_stack):
    run = run_stack("dev", redis={"mode": "external"}, secrets={"redisUrl": "rediss://:tok3n@cache.example.com:6380"})
    assert run.of_type("kubernetes:apps/v1:StatefulSet")[0].name == "database-statefulset"
    data = secret_data(run, "nocobase-connections")
    urls = [
        data[k]
        for k in (
            "CACHE_REDIS_URL",
            "PUBSUB_ADAPTER_REDIS_URL",
            "LOCK_ADAPTER_REDIS_URL",
            "QUEUE_ADAPTER_REDIS_URL",
            "REDIS_URL",
        )
    ]
    assert [urlsplit(u).path for u in urls] == ["/0", "/1", "/2", "/3", "/4"]
    assert {urlsplit(u).netloc for u in urls} == {":tok3n@cache.example.com:6380"}
    assert all(u.startswith("rediss://") for u in urls)
    assert "REDIS_PASSWORD" not in secret_data(run, "nocobase-shared")
    assert not [r for r in run.resources if r.name == "network-policy-redis"]


# -- Database ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine,port,image", [("postgres", 5432, "postgres:17.6"), ("mysql", 3306, "mysql:8.4.6")])
def test_in_cluster_database_is_one_service_in_front_of_a_statefulset(run_stack, engine, port, image):
    run = run_stack("dev", database={"engine": engine}, protect=True)
    sts = k8s(run, "StatefulSet", "nocobase-database")
    c = spec(sts)["template"]["spec"]["containers"][0]
    assert c["image"] == image and c["ports"][0]["containerPort"] == port
    password_vars = [e for e in c["env"] if "PASSWORD" in e["name"]]
    assert password_vars and all(e["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_PASSWORD" for e in password_vars)
    assert all("value" not in e for e in password_vars)
    assert sts.protect is True
    assert spec(k8s(run, "Service", "nocobase-database"))["ports"][0]["port"] == port
    assert env_of(k8s(run, "Deployment", "nocobase-primary"))["DB_DIALECT"]["value"] == engine


def test_external_database_is_the_single_entry_point_from_the_dsn(run_stack):
    run = run_stack(
        "dev",
        database={"mode": "external"},
        secrets={"databaseUrl": "postgres://app:p%40ss@pgbouncer.db.svc:6432/nocobase"},
    )
    assert not [r for r in run.of_type("kubernetes:apps/v1:StatefulSet") if "database" in r.name]
    env = env_of(k8s(run, "Deployment", "nocobase-primary"))
    assert (env["DB_HOST"]["value"], env["DB_PORT"]["value"]) == ("pgbouncer.db.svc", "6432")
    assert (env["DB_DATABASE"]["value"], env["DB_USER"]["value"]) == ("nocobase", "app")
    assert secret_data(run, "nocobase-connections")["DB_PASSWORD"] == "p@ss"
    assert run.outputs["databaseHost"].value == "pgbouncer.db.svc"


# -- SharedStorage ----------------------------------------------------------------------------------


def test_storage_class_mode_is_one_rwx_claim(run_stack):
    run = run_stack("dev", protect=True)
    pvc = k8s(run, "PersistentVolumeClaim", "nocobase-data")
    assert spec(pvc)["accessModes"] == ["ReadWriteMany"] and spec(pvc)["storageClassName"] == "nfs-client"
    assert pvc.protect and pvc.retain_on_delete


def test_nfs_mode_binds_a_retained_pv_to_the_claim(run_stack):
    run = run_stack("dev", storage={"mode": "nfs", "nfs": {"server": "10.0.0.5", "path": "/exports/nocobase"}})
    pv = k8s(run, "PersistentVolume", "nocobase-dev-nocobase-data")
    s = spec(pv)
    assert s["persistentVolumeReclaimPolicy"] == "Retain"
    assert s["nfs"] == {"server": "10.0.0.5", "path": "/exports/nocobase"}
    assert s["accessModes"] == ["ReadWriteMany"]
    assert s["claimRef"] == {"namespace": "nocobase-dev", "name": "nocobase-data"}
    pvc = k8s(run, "PersistentVolumeClaim", "nocobase-data")
    assert spec(pvc)["volumeName"] == "nocobase-dev-nocobase-data" and spec(pvc)["storageClassName"] == ""
    assert pv.urn in pvc.dependencies
    # Pods mount the claim, never an inline nfs volume.
    pod = spec(k8s(run, "Deployment", "nocobase-primary"))["template"]["spec"]
    assert all("nfs" not in v for v in pod["volumes"])


def test_unprotected_stack_leaves_stateful_resources_unprotected(run_stack):
    run = run_stack("dev", protect=False)
    assert not any(r.protect for r in run.resources)


# -- LoadBalancer -----------------------------------------------------------------------------------


def test_service_selects_both_roles_and_sticky_sessions(run_stack):
    run = run_stack("dev", loadBalancer={"sticky": True, "serviceType": "LoadBalancer", "port": 8080})
    s = spec(k8s(run, "Service", "nocobase"))
    assert s["selector"] == {"app.kubernetes.io/instance": "nocobase", "app.kubernetes.io/component": "app"}
    assert s["type"] == "LoadBalancer" and s["ports"][0] == {
        "name": "http",
        "port": 8080,
        "targetPort": "http",
        "protocol": "TCP",
    }
    assert s["sessionAffinity"] == "ClientIP"


def test_ingress_with_tls(run_stack):
    run = run_stack(
        "dev",
        loadBalancer={
            "ingress": {
                "enabled": True,
                "host": "nocobase.example.com",
                "className": "nginx",
                "tlsSecretName": "nocobase-tls",
            }
        },
    )
    ing = spec(k8s(run, "Ingress", "nocobase"))
    assert ing["ingressClassName"] == "nginx"
    assert ing["tls"] == [{"hosts": ["nocobase.example.com"], "secretName": "nocobase-tls"}]
    assert ing["rules"][0]["http"]["paths"][0]["backend"]["service"] == {"name": "nocobase", "port": {"name": "http"}}
    assert run.outputs["url"].value == "https://nocobase.example.com"


def test_new_api_weights_are_recorded_where_a_service_cannot_apply_them(run_stack):
    svc = k8s(run_stack("local"), "Service", "new-api")
    assert reveal(svc.inputs)["metadata"]["annotations"] == {"appcluster.io/weights": "primary=3,replicas=5"}


# -- NetworkPolicy and namespace --------------------------------------------------------------------


def selects(selector: dict, labels: dict) -> bool:
    """A Kubernetes label selector (matchLabels and In/NotIn/Exists expressions) applied to labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        value, op = labels.get(e["key"]), e["operator"]
        if (
            (op == "In" and value not in e["values"])
            or (op == "NotIn" and value in e["values"])
            or (op == "Exists" and value is None)
            or (op == "DoesNotExist" and value is not None)
        ):
            return False
    return True


def pod_templates(run) -> dict[str, dict]:
    """Every pod template the stack declares, by workload name (CronJobs through their job template)."""
    out = {}
    for r in run.resources:
        if not r.is_kubernetes or r.inputs["kind"] not in ("Deployment", "StatefulSet", "Job", "CronJob"):
            continue
        s = spec(r)
        template = s["jobTemplate"]["spec"]["template"] if r.inputs["kind"] == "CronJob" else s["template"]
        out[reveal(r.inputs["metadata"])["name"]] = template
    return out


def test_redis_and_database_admit_every_pod_of_ours_that_connects_and_nothing_else(run_stack):
    run = run_stack("dev", app={"workers": [{"name": "tasks", "mode": "*"}]})
    pods = pod_templates(run)

    def reads(t, names):
        return any(
            e["name"] in names
            for c in t["spec"].get("initContainers", []) + t["spec"]["containers"]
            for e in c.get("env", [])
        )

    for name, port, uses in (("nocobase-redis", 6379, {"CACHE_REDIS_URL"}), ("nocobase-database", 5432, {"DB_HOST"})):
        s = spec(k8s(run, "NetworkPolicy", name))
        assert s["policyTypes"] == ["Ingress"] and s["ingress"][0]["ports"] == [{"protocol": "TCP", "port": port}]
        sources = [f["podSelector"] for f in s["ingress"][0]["from"]]
        clients = {n for n, t in pods.items() if reads(t, uses)}
        # The instances, the worker and (for the database) the backup CronJob and pre-upgrade Job.
        assert {"nocobase-primary", "nocobase-replicas", "nocobase-worker-tasks"} <= clients
        if name == "nocobase-database":
            assert {"nocobase-backup", "nocobase-backup-before-2-2-15"} <= clients
        for pod, template in pods.items():
            admitted = any(selects(src, template["metadata"]["labels"]) for src in sources)
            assert admitted == (pod in clients), f"{name} {'admits' if admitted else 'refuses'} {pod}"


def test_namespace_enforces_baseline_and_warns_on_restricted(run_stack):
    labels = reveal(k8s(run_stack("dev"), "Namespace", "nocobase-dev").inputs)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_every_component_child_is_parented_to_its_component(run_stack):
    run = run_stack("dev")
    components = {r.urn: r for r in run.resources if r.type.startswith("appcluster:index:")}
    assert {r.type.split(":")[-1] for r in components.values()} == {
        "SharedSecrets",
        "Redis",
        "Database",
        "SharedStorage",
        "AppCluster",
        "UpgradeGate",
        "LoadBalancer",
        "NetworkPolicy",
        "Backups",
    }
    for r in run.resources:
        if r.custom and r.type not in ("pulumi:providers:kubernetes", "kubernetes:core/v1:Namespace"):
            assert r.parent in components, f"{r.type} {r.name} is not inside a component"


@pytest.mark.parametrize(
    "stack, needed",
    [
        # RDS: the proxy routes nowhere until its target is registered; ElastiCache; EFS's claim.
        ("prod", {"database-proxy-target", "redis-replication-group", "shared-storage-pvc", "shared-secrets-secret"}),
        # In-cluster servers: their StatefulSets and Services, awaited by the provider against a cluster.
        (
            "dev",
            {"database-statefulset", "database-service", "redis-statefulset", "redis-service", "shared-storage-pvc"},
        ),
    ],
)
def test_the_primary_is_created_after_everything_it_connects_to(run_stack, stack, needed):
    # Without the pre-upgrade backup nothing else happens to wait for the database.
    run = run_stack(stack, backup={"beforeUpgrade": False})
    primary = run.named("app-primary")
    names = {run.by_urn(urn).name for urn in primary.dependencies}
    assert needed <= names, f"the primary does not wait for {sorted(needed - names)}"
