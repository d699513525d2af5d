"""The real engine tier: the Pulumi CLI built from Go modules runs our program and policy pack.

These tests fail, never skip, when the engine is missing: `make test` builds it first."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import copy_checkout

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "integration-tests-only"


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    done = subprocess.run([str(REPO / "scripts" / "build-engine.sh"), "--bin"], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail("the Pulumi engine is not built: run `make engine` (or `make test`, which builds it)")
    return Path(done.stdout.strip())


class Project:
    """A copy of the project in a temp folder with its own file backend, as a user's checkout."""

    def __init__(self, root: Path, engine_bin: Path):
        self.root = root
        self.env = {
            **os.environ,
            "PATH": f"{engine_bin}:{os.environ['PATH']}",
            "PULUMI_HOME": str(root / ".state" / "pulumi-home"),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_BACKEND_URL": f"file://{root / '.state' / 'backend'}",
        }
        (root / ".state" / "backend").mkdir(parents=True)

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(args, cwd=cwd or self.root, env=self.env, capture_output=True, text=True, timeout=600)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def pulumi(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("pulumi", "--non-interactive", *args, cwd=cwd, check=check)

    def stack(self, name: str, cwd: Path | None = None) -> None:
        self.pulumi("stack", "select", "--create", "--secrets-provider", "passphrase", name, cwd=cwd)


@pytest.fixture
def project(tmp_path, engine_bin) -> Project:
    return Project(copy_checkout(tmp_path), engine_bin)


def _free_port_pair() -> int:
    """A port whose next two are free too (API server, kine, kwok): a user's cluster keeps its own."""
    import socket

    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port > 60000:
            continue
        try:
            for p in (port + 1, port + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    raise RuntimeError("no three free ports in a row on 127.0.0.1")


class Cluster:
    """The local control plane this test session started (scripts/cluster.sh)."""

    def __init__(self, kubeconfig: Path, bin_dir: Path):
        from kubernetes import client, config

        self.kubeconfig = kubeconfig
        self.kubectl_path = bin_dir / "kubectl"
        # The job runner's output of each pod it ran (scripts/cluster.sh keeps the kubeconfig beside it).
        self.jobs_dir = kubeconfig.parent / "jobs"
        api = config.new_client_from_config(config_file=str(kubeconfig))
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.autoscaling = client.AutoscalingV2Api(api)

    def kubectl(
        self, *args: str, check: bool = True, env: dict | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(self.kubectl_path), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            input=input,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr}")
        return done


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> Cluster:
    """A fresh control plane for the session, on ports of its own; stopped at the end."""
    built = subprocess.run([str(REPO / "scripts" / "build-cluster.sh"), "--bin"], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.fail("the local control plane is not built: run `make cluster-build` (or `make test`, which builds it)")
    env = {**os.environ, "CLUSTER_DIR": str(tmp_path_factory.mktemp("cluster")), "CLUSTER_PORT": str(_free_port_pair())}
    script = str(REPO / "scripts" / "cluster.sh")
    up = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=180)
    try:
        assert up.returncode == 0, up.stderr
        yield Cluster(Path(up.stdout.strip()), Path(built.stdout.strip()))
    finally:
        subprocess.run([script, "down"], env=env, capture_output=True, timeout=60)


def deploy_settings(
    project: Project, stack: str, cluster: Cluster, namespace: str, secrets: dict | None = None, **settings: str
) -> None:
    """Select a stack of the copy and point it at the cluster, in a namespace of its own, with its
    secrets from config (the engine has no pulumi-random provider)."""
    from tools.local_stack import GENERATE, missing

    project.stack(stack)
    project.pulumi("config", "rm", "--path", "appcluster:kubernetes.renderYamlToDirectory", check=False)
    project.pulumi("config", "set", "--path", "appcluster:kubernetes.kubeconfig", str(cluster.kubeconfig))
    project.pulumi("config", "set", "--path", "appcluster:kubernetes.namespace", namespace)
    # The pre-upgrade dump needs the database server, which this tier does not run (no container runs
    # but a Job's, on this machine): the job runner fails it, and with it every first install.
    # tests/integration/test_jobs_day_two.py turns it on to see that failure stop nothing.
    project.pulumi("config", "set", "--path", "--type", "bool", "appcluster:backup.beforeUpgrade", "false")
    for key, value in settings.items():
        project.pulumi("config", "set", "--path", f"appcluster:{key}", value)
    for key, value in (secrets or {}).items():
        project.pulumi("config", "set", "--secret", "--path", f"appcluster:secrets.{key}", value)
    for key, kind in missing(project.root / f"Pulumi.{stack}.yaml"):
        project.pulumi("config", "set", "--secret", "--path", f"appcluster:secrets.{key}", GENERATE[kind]())


def provide_volumes(project: Project, stack: str, cluster: Cluster) -> None:
    """What a storage provisioner would do: a volume per claim the stack makes."""
    from tools.local_volumes import claims, provide

    provide(str(cluster.kubeconfig), claims(project.root / f"Pulumi.{stack}.yaml"))


def dev_nocobase(folder: Path, engine_bin: Path, cluster: Cluster, namespace: str, version: str) -> Project:
    """A copy of the project whose `dev` stack (NocoBase, two instances) deploys `version` into the
    cluster's `namespace`, its volumes provided."""
    project = Project(copy_checkout(folder), engine_bin)
    # The plugin platform's account: never generated, a team sets it (placeholders in Pulumi.dev.yaml).
    deploy_settings(
        project,
        "dev",
        cluster,
        namespace,
        secrets={"nocobasePkgUsername": "acme", "nocobasePkgPassword": "p" * 24},
        **{"app.image": f"nocobase/nocobase:{version}"},
    )
    provide_volumes(project, "dev", cluster)
    return project


@dataclass
class JobOutcome:
    condition: str  # Complete or Failed
    pod: str
    exit_code: int | None
    reason: str
    message: str
    ran: bool  # tools/jobrunner.py ran the pod's command


def job_outcome(cluster: Cluster, namespace: str, name: str, timeout: float = 120) -> JobOutcome:
    """Wait until the Job is Complete or Failed; what its (last) pod reported."""
    from tools.jobrunner import RAN_ANNOTATION

    deadline = time.monotonic() + timeout
    while True:
        conditions = cluster.batch.read_namespaced_job(name, namespace).status.conditions or []
        done = [c.type for c in conditions if c.type in ("Complete", "Failed") and c.status == "True"]
        if done:
            break
        assert time.monotonic() < deadline, f"Job {namespace}/{name} neither Complete nor Failed after {timeout}s"
        time.sleep(0.5)
    pods = cluster.core.list_namespaced_pod(namespace, label_selector=f"batch.kubernetes.io/job-name={name}").items
    pod = max(pods, key=lambda p: p.metadata.creation_timestamp)
    state = pod.status.container_statuses[0].state.terminated if pod.status.container_statuses else None
    return JobOutcome(
        done[0],
        pod.metadata.name,
        state.exit_code if state else None,
        state.reason if state else "",
        (state.message or "") if state else "",
        RAN_ANNOTATION in (pod.metadata.annotations or {}),
    )


def assert_every_job_ran(cluster: Cluster, namespace: str) -> list[str]:
    """Every Job in the namespace that succeeded did so by running: a pod of its ended with exit 0 in
    the job runner (kwok alone would mark it Complete unrun). Returns the Jobs' names."""
    from tools.jobrunner import RAN_ANNOTATION

    names = []
    for j in cluster.batch.list_namespaced_job(namespace).items:
        if not j.status.succeeded:
            continue
        pods = cluster.core.list_namespaced_pod(
            namespace, label_selector=f"batch.kubernetes.io/job-name={j.metadata.name}"
        )
        ran = [p for p in pods.items if (p.metadata.annotations or {}).get(RAN_ANNOTATION, "").startswith("exit 0 ")]
        assert ran, f"Job {j.metadata.name} succeeded but the job runner never ran it"
        names.append(j.metadata.name)
    return names
