"""The local control plane runs the pods of Jobs (tools/jobrunner.py): a Job is Complete only when its
command really ran here and exited 0, with its own ServiceAccount's rights and its Secrets' values."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from tests.integration.conftest import Cluster, job_outcome

NS = "it-job-runner"
SECRET_VALUE = "s3cr3t-for-the-runner-test"


def apply(cluster: Cluster, *objects: dict) -> None:
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def job(name: str, script: str, account: str = "default", **pod: object) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": account,
                    "securityContext": {"runAsUser": 65532, "runAsGroup": 65532},
                    "containers": [
                        {
                            "name": "main",
                            "image": "alpine/kubectl:1.33.3",
                            "command": ["sh", "-c", script],
                            "env": [
                                {"name": "HOME", "value": "/tmp"},
                                {
                                    "name": "FROM_SECRET",
                                    "valueFrom": {"secretKeyRef": {"name": "input", "key": "value"}},
                                },
                                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            ],
                            **pod.pop("container", {}),
                        }
                    ],
                    **pod,
                }
            },
        },
    }


@pytest.fixture(scope="module")
def ns(cluster: Cluster) -> str:
    apply(
        cluster,
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "input", "namespace": NS},
            "stringData": {"value": SECRET_VALUE},
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "writer", "namespace": NS}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "writer", "namespace": NS},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "writer", "namespace": NS},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "writer"},
            "subjects": [{"kind": "ServiceAccount", "name": "writer", "namespace": NS}],
        },
    )
    deadline = time.monotonic() + 30  # the ServiceAccount controller makes `default`
    while not cluster.core.list_namespaced_service_account(NS, field_selector="metadata.name=default").items:
        assert time.monotonic() < deadline, "no default ServiceAccount"
        time.sleep(0.5)
    return NS


def test_a_job_completes_only_by_running_its_command_as_its_own_account_with_its_secrets(cluster, ns):
    """What kwok alone would mark Complete without running: here the ConfigMap exists only if the
    script ran, with the Secret's value in its env, as the pod's user, with the writer's token."""
    apply(
        cluster,
        job(
            "writes",
            'set -eu; kubectl create configmap written --from-literal=pod="$POD" '
            '--from-literal=uid="$(id -u)" '
            '--from-literal=secret-sha256="$(printf %s "$FROM_SECRET" | sha256sum | cut -c1-64)"',
            account="writer",
        ),
    )
    outcome = job_outcome(cluster, ns, "writes")
    assert outcome.condition == "Complete", outcome
    data = cluster.core.read_namespaced_config_map("written", ns).data
    assert data["pod"] == outcome.pod and data["uid"] == "65532"
    assert data["secret-sha256"] == hashlib.sha256(SECRET_VALUE.encode()).hexdigest()
    assert outcome.exit_code == 0 and outcome.ran


def test_rbac_is_the_jobs_own_and_a_failure_keeps_its_exit_code_and_output(cluster, ns):
    # `default` may not create ConfigMaps: kubectl is refused, and the Job fails with what it said.
    apply(cluster, job("forbidden", "kubectl create configmap nope --from-literal=a=b"))
    outcome = job_outcome(cluster, ns, "forbidden")
    assert outcome.condition == "Failed" and outcome.exit_code == 1, outcome
    assert "forbidden" in outcome.message and "system:serviceaccount:it-job-runner:default" in outcome.message
    apply(cluster, job("exits-3", 'echo "about to fail"; exit 3'))
    outcome = job_outcome(cluster, ns, "exits-3")
    assert (outcome.condition, outcome.exit_code) == ("Failed", 3) and "about to fail" in outcome.message


def test_a_pod_this_machine_cannot_give_what_it_needs_fails_with_the_reason(cluster, ns):
    """A volume (here a Secret's files; a backup's claim alike) has no counterpart on this machine:
    the command does not run, and the pod fails saying so."""
    apply(
        cluster,
        job(
            "needs-a-volume",
            "true",
            container={"volumeMounts": [{"name": "data", "mountPath": "/backups"}]},
            volumes=[{"name": "data", "secret": {"secretName": "input"}}],
        ),
    )
    outcome = job_outcome(cluster, ns, "needs-a-volume")
    assert outcome.condition == "Failed", outcome
    assert outcome.reason == "JobRunnerCannotRun"
    assert "mounts volume data (secret) at /backups" in outcome.message
