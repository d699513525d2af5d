"""tools/jobrunner.py on a pod as the API server returns it, with the API calls answered here: what it
runs, with which env and user, and what it reports. Against a real API server, Job controller and
RBAC: tests/integration/test_jobs_runner.py."""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import urllib.error
from pathlib import Path

import pytest

from tools import jobrunner


class FakeApi:
    """The few calls the runner makes, answered from dicts; every call kept."""

    def __init__(self, secrets: dict[str, dict[str, str]]):
        self.secrets, self.calls = secrets, []

    def call(self, method: str, path: str, body: dict | None = None, content_type: str = "") -> dict:
        self.calls.append((method, path, body))
        if "/secrets/" in path:
            name = path.rsplit("/", 1)[1]
            if name not in self.secrets:
                raise urllib.error.HTTPError(path, 404, "Not Found", {}, None)
            return {"data": {k: base64.b64encode(v.encode()).decode() for k, v in self.secrets[name].items()}}
        if path.endswith("/token"):
            return {"status": {"token": "issued-for-the-pod"}}
        if method == "GET":  # the pod itself: still there
            return {"metadata": {"uid": "uid-1"}}
        return {}

    def patch(self, path: str, body: dict) -> dict:
        return self.call("PATCH", path, body)


def pod(script: str, **container) -> dict:
    return {
        "metadata": {
            "name": "gate-abc",
            "namespace": "ns",
            "uid": "uid-1",
            "ownerReferences": [{"kind": "Job", "name": "gate"}],
        },
        "spec": {
            "serviceAccountName": "upgrade",
            "nodeName": "node-1",
            "securityContext": {"runAsUser": 65532},
            "volumes": [
                {"name": "tmp", "emptyDir": {}},
                {"name": "kube-api-access-x", "projected": {"sources": [{"serviceAccountToken": {}}]}},
            ],
            "containers": [
                {
                    "name": "kubectl",
                    "image": "alpine/kubectl:1.33.3",
                    "command": ["sh", "-c", script],
                    "env": [
                        {"name": "HOME", "value": "/tmp"},
                        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    ],
                    "volumeMounts": [
                        {"name": "tmp", "mountPath": "/tmp"},
                        {"name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"},
                    ],
                    **container,
                }
            ],
        },
        "status": {"phase": "Running"},
    }


@pytest.fixture
def runner():
    # Outside pytest's tmp folders, which only root may enter: the scripts run as the pod's user.
    tmp_path = Path(tempfile.mkdtemp(prefix="test-jobrunner-"))
    yield make_runner(tmp_path)
    shutil.rmtree(tmp_path)


def make_runner(tmp_path: Path) -> jobrunner.Runner:
    kubectl = tmp_path / "real-kubectl"
    kubectl.write_text('#!/bin/sh\necho "kubectl $*"; grep -o issued-for-the-pod "$KUBECONFIG"\n')
    kubectl.chmod(0o755)
    ca = tmp_path / "ca.crt"
    ca.write_text("CA")
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    logs = tmp_path / "logs"
    logs.mkdir()
    api = FakeApi({"db": {"pw": "hunter2"}})
    return jobrunner.Runner(api, "https://127.0.0.1:1", ca, kubectl, logs, scratch)


def status_patch(runner) -> dict:
    return next(body for method, path, body in runner.api.calls if path.endswith("/status"))["status"]


def test_the_command_runs_as_the_pods_user_with_its_env_and_its_own_token(runner):
    runner.run_pod(pod('echo "uid=$(id -u) pw=$PASSWORD pod=$POD home=$HOME"; kubectl get deployment'))
    log = (runner.logs / "ns.gate-abc.log").read_text()
    assert f"uid={65532 if os.geteuid() == 0 else os.geteuid()} pw=hunter2 pod=gate-abc home=/tmp" in log
    assert "kubectl get deployment" in log and "issued-for-the-pod" in log
    token = next(body for method, path, body in runner.api.calls if path.endswith("/token"))
    assert token["spec"]["boundObjectRef"] == {"apiVersion": "v1", "kind": "Pod", "name": "gate-abc", "uid": "uid-1"}
    assert ("POST", "/api/v1/namespaces/ns/serviceaccounts/upgrade/token") in [c[:2] for c in runner.api.calls]
    status = status_patch(runner)
    assert status["phase"] == "Succeeded"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


def test_the_exit_code_decides_the_phase_and_the_output_is_the_message(runner):
    runner.run_pod(pod('echo "it went wrong" >&2; exit 3'))
    status = status_patch(runner)
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (status["phase"], terminated["exitCode"], terminated["reason"]) == ("Failed", 3, "Error")
    assert "it went wrong" in terminated["message"]
    marked = next(body for method, path, body in runner.api.calls if method == "PATCH" and not path.endswith("/status"))
    assert marked["metadata"]["annotations"][jobrunner.RAN_ANNOTATION].startswith("exit 3 at ")


@pytest.mark.parametrize(
    "change, reason",
    [
        (
            {"volumeMounts": [{"name": "data", "mountPath": "/backups"}]},
            "mounts volume data (persistentVolumeClaim) at /backups",
        ),
        (
            {"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k"}}}]},
            "Secret ns/missing: 404",
        ),
        ({"command": []}, "has no command"),
    ],
)
def test_what_this_machine_cannot_give_fails_the_pod_with_the_reason_and_runs_nothing(runner, change, reason):
    p = pod("echo RAN-THE-SCRIPT", **change)
    p["spec"]["volumes"].append({"name": "data", "persistentVolumeClaim": {"claimName": "data"}})
    runner.run_pod(p)
    terminated = status_patch(runner)["containerStatuses"][0]["state"]["terminated"]
    assert terminated["reason"] == "JobRunnerCannotRun" and reason in terminated["message"]
    assert "RAN-THE-SCRIPT" not in (runner.logs / "ns.gate-abc.log").read_text()


def test_only_pods_of_jobs_are_run():
    assert jobrunner.owned_by_job(pod("true"))
    assert not jobrunner.owned_by_job({"metadata": {"ownerReferences": [{"kind": "ReplicaSet"}]}})
    assert not jobrunner.owned_by_job({"metadata": {}})


def test_the_runner_writes_no_secret_into_what_it_reports(runner):
    runner.run_pod(pod("true"))
    assert "hunter2" not in json.dumps([c for c in runner.api.calls if c[0] == "PATCH"])
