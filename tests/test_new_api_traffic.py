"""New API behind our probes and load balancers: where its logs go, how it stops, what checks it.

The facts are New API's (QuantumNous/new-api, read at Calcium-Ion/new-api v0.6.3.1.1 and at
QuantumNous/new-api main; the pinned v0.9.0 lies between them and each fact holds in both):
- Dockerfile: `WORKDIR /data`, `ENTRYPOINT ["/new-api"]` (`/one-api` at v0.6.3.1.1), so our `args` are its flags;
- common/init.go: `--log-dir` defaults to `./logs`, i.e. /data/logs, on the shared volume;
- main.go: no signal handling, so SIGTERM ends it at once; model/utils.go keeps BATCH_UPDATE_INTERVAL
  seconds of quota updates in memory;
- router/api-router.go: the whole /api group, /api/status included, is behind GlobalAPIRateLimit, keyed by
  client IP in Redis (middleware/rate-limit.go), so cluster-wide.
"""

from __future__ import annotations

import posixpath

import pulumi
import pytest

from tests.conftest import container, k8s, spec

IMAGE_WORKDIR = "/data"  # Dockerfile WORKDIR
DEFAULT_LOG_DIR = "./logs"  # common/init.go: flag.String("log-dir", "./logs", ...)
RATE_LIMITED_HEALTH_PATH = "/api/status"  # router/api-router.go: apiRouter.Use(middleware.GlobalAPIRateLimit())


def log_dir(args: list[str]) -> str:
    """Where the binary writes its logs given these arguments (Go's flag package: `--log-dir X` or `--log-dir=X`)."""
    value = DEFAULT_LOG_DIR
    for i, arg in enumerate(args):
        if arg in ("--log-dir", "-log-dir") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(("--log-dir=", "-log-dir=")):
            value = arg.split("=", 1)[1]
    return posixpath.normpath(posixpath.join(IMAGE_WORKDIR, value))


def within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@pytest.mark.parametrize("role", ["new-api-primary", "new-api-replicas"])
def test_logs_go_to_the_per_pod_volume_not_the_shared_one(run_stack, role):
    pod = spec(k8s(run_stack("local"), "Deployment", role))["template"]["spec"]
    c = pod["containers"][0]
    assert "command" not in c  # the image's own entrypoint, /new-api, reads the flags
    logs = log_dir(c.get("args", []))
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in c["volumeMounts"]}
    shared = [p for p, v in mounts.items() if "persistentVolumeClaim" in v]
    assert not any(within(logs, p) for p in shared), f"logs in {logs}: on the shared volume {shared}"
    local = [p for p, v in mounts.items() if "emptyDir" in v and within(logs, p)]
    assert local and mounts[local[0]]["emptyDir"]["sizeLimit"], f"logs in {logs}: no bounded per-pod volume there"


def test_docker_passes_the_same_log_dir(run_stack):
    from tools.offline.harness import reveal

    run = run_stack("docker")
    for name in ("new-api-primary", "new-api-replica-1"):
        c = reveal(
            next(r for r in run.of_type("docker:index/container:Container") if r.inputs.get("name") == name).inputs
        )
        assert log_dir(c["command"]) == "/app/logs"


def test_a_stopping_pod_drains_past_endpoint_removal_and_one_batch(run_stack):
    run = run_stack("local", app={"batchUpdateIntervalSeconds": 7, "terminationGracePeriodSeconds": 30})
    for role in ("new-api-primary", "new-api-replicas"):
        pod = spec(k8s(run, "Deployment", role))["template"]["spec"]
        sleep = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
        # Endpoint propagation (10 s) + one batch interval, all within the grace period with time to exit.
        assert sleep == 10 + 7
        assert pod["terminationGracePeriodSeconds"] == 30 >= sleep + 5


def test_a_grace_period_shorter_than_the_drain_is_refused(run_stack):
    with pytest.raises(
        pulumi.RunError,
        match=r"appcluster:app.terminationGracePeriodSeconds: 12 — New API exits "
        r"at once on SIGTERM.*set at least 20",
    ):
        run_stack("local", app={"terminationGracePeriodSeconds": 12})


def test_nocobase_gets_no_drain_sleep(run_stack):
    # It shuts down on SIGTERM itself; its grace period is for that.
    assert "lifecycle" not in container(k8s(run_stack("dev"), "Deployment", "nocobase-primary"))


@pytest.mark.parametrize("role", ["new-api-primary", "new-api-replicas"])
def test_kubelet_probes_never_ask_the_rate_limited_path(run_stack, role):
    c = container(k8s(run_stack("local"), "Deployment", role))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        # main.go opens the port only after the database, options and Redis are up (server.Run comes last).
        assert c[probe].get("tcpSocket") == {"port": "http"} and "httpGet" not in c[probe], probe


def test_nocobase_probes_still_ask_its_health_path(run_stack):
    c = container(k8s(run_stack("dev"), "Deployment", "nocobase-primary"))
    assert c["readinessProbe"]["httpGet"]["path"] == "/api/__health_check"


def test_an_ingress_sends_setup_to_the_master_and_keeps_long_requests_open(run_stack):
    run = run_stack(
        "local", loadBalancer={"ingress": {"enabled": True, "host": "api.example.com", "className": "nginx"}}
    )
    ingress = spec(k8s(run, "Ingress", "new-api"))
    setup, rest = ingress["rules"][0]["http"]["paths"]
    assert (setup["path"], setup["backend"]["service"]["name"]) == ("/api/setup", "new-api-primary")
    assert rest["path"] == "/" and rest["backend"]["service"]["name"] == "new-api"
    assert spec(k8s(run, "Service", "new-api-primary"))["selector"]["appcluster.io/role"] == "primary"
    annotations = k8s(run, "Ingress", "new-api").inputs["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "310"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "0"


def test_one_instance_needs_no_setup_route(run_stack):
    run = run_stack(
        "local",
        app={"replicas": 1},
        loadBalancer={"ingress": {"enabled": True, "host": "api.example.com", "className": "nginx"}},
    )
    assert [p["path"] for p in spec(k8s(run, "Ingress", "new-api"))["rules"][0]["http"]["paths"]] == ["/"]
