"""The app itself: roles, start order, env wiring per profile, probes, disruption and scaling."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import container, env_of, k8s, secret_data, spec

SECRET_NAMES = {
    "APP_KEY",
    "APP_AES_SECRET_KEY",
    "SESSION_SECRET",
    "CRYPTO_SECRET",
    "DB_PASSWORD",
    "SQL_DSN",
    "REDIS_CONN_STRING",
    "CACHE_REDIS_URL",
    "PUBSUB_ADAPTER_REDIS_URL",
    "LOCK_ADAPTER_REDIS_URL",
    "QUEUE_ADAPTER_REDIS_URL",
    "REDIS_URL",
}


def test_primary_is_one_instance_that_never_overlaps_and_replicas_follow_it(run_stack):
    run = run_stack("dev", app={"replicas": 4})
    primary, replicas = k8s(run, "Deployment", "nocobase-primary"), k8s(run, "Deployment", "nocobase-replicas")
    assert spec(primary)["replicas"] == 1
    assert spec(primary)["strategy"] == {"type": "Recreate"}
    assert spec(replicas)["replicas"] == 3
    # A rollout never adds an instance beyond the 32 worker IDs.
    assert spec(replicas)["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert primary.urn in replicas.dependencies
    assert replicas.urn not in primary.dependencies


def test_single_instance_has_no_replica_role_and_no_pdb(run_stack):
    run = run_stack("dev", app={"replicas": 1})
    assert [r.name for r in run.of_type("kubernetes:apps/v1:Deployment")] == ["app-primary"]
    assert run.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []


def test_nocobase_wiring_uses_a_redis_db_per_adapter_and_secret_refs_only(run_stack):
    run = run_stack("dev")
    env = env_of(k8s(run, "Deployment", "nocobase-replicas"))
    connections = secret_data(run, "nocobase-connections")
    assert env["APP_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "nocobase-shared", "key": "APP_KEY"}
    assert env["APP_AES_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "nocobase-shared"
    assert {env[k]["value"] for k in ("CACHE_DEFAULT_STORE", "LOCK_ADAPTER_DEFAULT", "QUEUE_ADAPTER")} == {"redis"}
    urls = {
        k: connections[k]
        for k in (
            "CACHE_REDIS_URL",
            "PUBSUB_ADAPTER_REDIS_URL",
            "LOCK_ADAPTER_REDIS_URL",
            "QUEUE_ADAPTER_REDIS_URL",
            "REDIS_URL",
        )
    }
    assert [urlsplit(urls[k]).path for k in urls] == ["/0", "/1", "/2", "/3", "/4"]
    for url in urls.values():
        parts = urlsplit(url)
        assert parts.scheme == "redis" and parts.hostname == "nocobase-redis.nocobase-dev.svc.cluster.local"
        assert parts.port == 6379 and parts.password
    assert env["DB_HOST"]["value"] == "nocobase-database.nocobase-dev.svc.cluster.local"
    assert (env["DB_DIALECT"]["value"], env["DB_PORT"]["value"]) == ("postgres", "5432")
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "nocobase-connections"
    assert "workerid-allocator-redis" in env["APPEND_PRESET_BUILT_IN_PLUGINS"]["value"]
    assert "CLUSTER_MODE" not in env
    for name in SECRET_NAMES & env.keys():
        assert "value" not in env[name], f"{name} is a literal"


def test_every_instance_reads_the_same_secrets(run_stack):
    run = run_stack("dev", app={"replicas": 3})
    primary = env_of(k8s(run, "Deployment", "nocobase-primary"))
    replicas = env_of(k8s(run, "Deployment", "nocobase-replicas"))
    assert primary == replicas


def test_cluster_mode_processes_are_passed_to_nocobase(run_stack):
    env = env_of(k8s(run_stack("dev", app={"processesPerInstance": 4}), "Deployment", "nocobase-primary"))
    assert env["CLUSTER_MODE"]["value"] == "4"


def test_new_api_master_and_slaves(run_stack):
    run = run_stack("local", app={"replicas": 3}, database={"engine": "mysql"})
    master = env_of(k8s(run, "Deployment", "new-api-primary"))
    slaves = env_of(k8s(run, "Deployment", "new-api-replicas"))
    assert "NODE_TYPE" not in master
    assert slaves["NODE_TYPE"]["value"] == "slave"
    assert master["NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert (master["SYNC_FREQUENCY"]["value"], master["BATCH_UPDATE_ENABLED"]["value"]) == ("60", "true")
    assert master["SESSION_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "new-api-shared", "key": "SESSION_SECRET"}
    connections = secret_data(run, "new-api-connections")
    dsn = connections["SQL_DSN"]
    assert (
        dsn.startswith("appcluster:")
        and "@tcp(new-api-database.appcluster-local.svc.cluster.local:3306)/appcluster" in dsn
    )
    assert urlsplit(connections["REDIS_CONN_STRING"]).path == "/0"
    assert spec(k8s(run, "Deployment", "new-api-primary"))["strategy"]["type"] == "Recreate"


def test_new_api_on_postgres_gets_a_url_dsn(run_stack):
    dsn = secret_data(run_stack("local"), "new-api-connections")["SQL_DSN"]
    parts = urlsplit(dsn)
    assert parts.scheme == "postgres" and parts.port == 5432 and parts.path == "/appcluster"


def test_new_api_single_node_on_sqlite_has_no_database(run_stack):
    run = run_stack("local", app={"replicas": 1}, database={"engine": "sqlite"})
    assert "SQL_DSN" not in env_of(k8s(run, "Deployment", "new-api-primary"))
    assert not [r for r in run.resources if r.type == "appcluster:index:Database"]


def test_probes_wait_out_a_long_first_start(run_stack):
    c = container(k8s(run_stack("dev", app={"startupTimeoutSeconds": 1200}), "Deployment", "nocobase-primary"))
    for probe in ("startupProbe", "readinessProbe"):
        assert c[probe]["httpGet"]["path"] == "/api/__health_check"
        assert c[probe]["httpGet"]["port"] == "http"
    # A plugin install restarts NocoBase in-process (503 meanwhile): liveness must not kill it for that.
    assert c["livenessProbe"] == {
        "tcpSocket": {"port": "http"},
        "periodSeconds": 20,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 1200
    assert c["ports"] == [{"name": "http", "containerPort": 80, "protocol": "TCP"}]


def test_pulumi_waits_as_long_as_the_probes_and_jobs_may_take(run_stack):
    run = run_stack("dev", app={"startupTimeoutSeconds": 1200, "terminationGracePeriodSeconds": 600})
    for name in ("nocobase-primary", "nocobase-replicas"):
        timeouts = k8s(run, "Deployment", name).custom_timeouts
        assert timeouts and all(int(t.rstrip("s")) > 1200 for t in (timeouts["create"], timeouts["update"]))
    stop = k8s(run, "Job", "nocobase-stop-before-2-2-15")
    deadline = stop.inputs["spec"]["activeDeadlineSeconds"]
    assert deadline > 600 and int(stop.custom_timeouts["create"].rstrip("s")) > deadline
    backup = k8s(run, "Job", "nocobase-backup-before-2-2-15")
    assert int(backup.custom_timeouts["create"].rstrip("s")) > backup.inputs["spec"]["activeDeadlineSeconds"]


def test_resources_security_context_and_spread(run_stack):
    d = k8s(run_stack("dev"), "Deployment", "nocobase-primary")
    c = container(d)
    assert c["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}
    assert c["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    pod = spec(d)["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["terminationGracePeriodSeconds"] == 60
    assert {t["topologyKey"] for t in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }


def test_non_root_image_gets_the_restricted_profile(run_stack):
    d = k8s(
        run_stack("dev", app={"securityContext": {"runAsUser": 1000, "readOnlyRootFilesystem": True}}),
        "Deployment",
        "nocobase-primary",
    )
    pod = spec(d)["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000
    c = container(d)
    assert "add" not in c["securityContext"]["capabilities"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]


def test_shared_storage_is_mounted_at_the_data_path(run_stack):
    d = k8s(run_stack("dev"), "Deployment", "nocobase-replicas")
    assert container(d)["volumeMounts"][0] == {"name": "data", "mountPath": "/app/nocobase/storage"}
    assert spec(d)["template"]["spec"]["volumes"][0] == {
        "name": "data",
        "persistentVolumeClaim": {"claimName": "nocobase-data"},
    }


def test_pdb_allows_one_disruption_over_both_roles(run_stack):
    pdb = spec(k8s(run_stack("dev"), "PodDisruptionBudget", "nocobase"))
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"]["matchLabels"] == {
        "app.kubernetes.io/instance": "nocobase",
        "app.kubernetes.io/component": "app",
    }


def test_hpa_scales_only_the_replica_role_within_the_limit(run_stack):
    run = run_stack("dev", app={"replicas": 3, "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 31}})
    hpa = spec(k8s(run, "HorizontalPodAutoscaler", "nocobase-replicas"))
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "nocobase-replicas"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 31)
    # The HPA owns the count: the Deployment does not state one (an ignored 0 would never come back).
    replicas = k8s(run, "Deployment", "nocobase-replicas")
    assert "replicas" not in spec(replicas) and replicas.ignore_changes == []
    assert run.outputs["maxInstances"].value == 32


def test_generic_profile_is_wired_from_config(run_stack):
    run = run_stack(
        "dev",
        app={
            "profile": "generic",
            "name": "wiki",
            "image": "ghcr.io/acme/wiki:2.5.1",
            "port": 3000,
            "healthPath": "/healthz",
            "dataPath": "/var/lib/wiki",
            "generic": {
                "secretEnv": ["SECRET_KEY_BASE"],
                "envMap": {"DATABASE_URL": "database.url", "REDIS_URL": "redis.cache", "HOSTNAME": "pod.name"},
            },
        },
    )
    d = k8s(run, "Deployment", "wiki-primary")
    env = env_of(d)
    assert env["SECRET_KEY_BASE"]["valueFrom"]["secretKeyRef"] == {"name": "wiki-shared", "key": "SECRET_KEY_BASE"}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "wiki-connections"
    assert secret_data(run, "wiki-connections")["DATABASE_URL"].startswith("postgres://appcluster:")
    assert env["HOSTNAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    c = container(d)
    assert c["image"] == "ghcr.io/acme/wiki:2.5.1" and c["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["volumeMounts"][0]["mountPath"] == "/var/lib/wiki"


def test_mock_inputs_use_camel_case_wire_names(run_stack):
    d = k8s(run_stack("dev"), "Deployment", "nocobase-primary")
    assert "terminationGracePeriodSeconds" in spec(d)["template"]["spec"]
    assert "termination_grace_period_seconds" not in str(d.inputs)


def test_new_api_log_database_in_cluster(run_stack):
    run = run_stack("local", database={"logDatabase": True})
    env = env_of(k8s(run, "Deployment", "new-api-primary"))
    assert env["LOG_SQL_DSN"]["valueFrom"]["secretKeyRef"] == {"name": "new-api-connections", "key": "LOG_SQL_DSN"}
    assert urlsplit(secret_data(run, "new-api-connections")["LOG_SQL_DSN"]).hostname == (
        "new-api-log-database.appcluster-local.svc.cluster.local"
    )
    log_server = spec(k8s(run, "StatefulSet", "new-api-log-database"))["template"]["spec"]["containers"][0]
    password = next(e for e in log_server["env"] if e["name"] == "POSTGRES_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"]["key"] == "LOG_DATABASE_PASSWORD"
    policy = spec(k8s(run, "NetworkPolicy", "new-api-log-database"))
    assert policy["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "new-api"


def test_new_api_logs_stay_off_the_shared_volume_and_are_bounded(run_stack):
    pod = spec(k8s(run_stack("local"), "Deployment", "new-api-replicas"))["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/app/logs"]] == {"name": mounts["/app/logs"], "emptyDir": {"sizeLimit": "1Gi"}}
    assert "persistentVolumeClaim" in volumes[mounts["/data"]]
