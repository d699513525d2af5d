"""The upgrade gate of apps that must not mix versions (NocoBase): before the primary moves to a new
version, a Job stops every other instance; once the primary is ready and the others are declared at
the new version, a second Job brings back any role that still sits at zero.

The scripts are plain POSIX sh around kubectl, kept here as functions so the tests run them for real.
"""
from __future__ import annotations

import shlex
from typing import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv

# FROM alpine, so it has the busybox `sh` the scripts need; registry.k8s.io/kubectl is distroless, no
# shell (alpine-docker/multi-arch-docker-images kubectl/Dockerfile; tags name the kubectl version).
KUBECTL_IMAGE = "alpine/kubectl:1.33.3"
KUBECTL_UID = 65532


def stop_script(selector: str, wait_seconds: int) -> str:
    """Scale every Deployment matching the selector to zero and wait until their pods are gone.
    Nothing to stop (a first install) is success; pods that outlive the wait are a failure that says so."""
    sel = shlex.quote(selector)
    return f"""set -eu
deployments=$(kubectl get deployment -l {sel} -o name)
if [ -z "$deployments" ]; then
  echo "nothing to stop: no other instances exist yet (first install)"
  exit 0
fi
echo "stopping $(echo $deployments) before the primary moves to the new version"
kubectl scale $deployments --replicas=0
if [ -n "$(kubectl get pod -l {sel} -o name)" ] && ! kubectl wait --for=delete pod -l {sel} --timeout={wait_seconds}s; then
  echo "still running after {wait_seconds}s: $(kubectl get pod -l {sel} -o name | tr '\\n' ' ')- the primary must not migrate while instances of the old version run" >&2
  exit 1
fi
echo "every other instance has stopped"
"""


def resume_script(counts: Mapping[str, int]) -> str:
    """Scale each named Deployment back to its count if it still sits at zero (left there by the stop
    script, and not restored by the apply: an autoscaled role whose replicas the HPA owns)."""
    lines = ["set -eu"]
    for name, count in counts.items():
        ref = shlex.quote(f"deployment/{name}")
        lines.append(f'if [ "$(kubectl get {ref} -o jsonpath={{.spec.replicas}})" = 0 ]; then '
                     f'kubectl scale {ref} --replicas={count}; else echo "{name}: already running"; fi')
    return "\n".join(lines) + "\n"


def kubectl_job(parent: pulumi.Resource, name: str, *, app_name: str, namespace: pulumi.Input[str], job_name: str,
                account: pulumi.Input[str], script: str, deadline_seconds: int,
                depends_on: Sequence[pulumi.Resource]) -> k8s.batch.v1.Job:
    labels = conv.labels(app_name, "upgrade")
    return k8s.batch.v1.Job(
        name,
        metadata={"name": job_name, "namespace": namespace, "labels": labels},
        spec={
            # A script that fails says why; retrying it would only repeat that.
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline_seconds,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": account,
                    # The one pod that needs the API: it scales the app's own Deployments.
                    "automountServiceAccountToken": True,
                    "securityContext": conv.pod_security_context(KUBECTL_UID),
                    "containers": [{
                        "name": "kubectl",
                        "image": KUBECTL_IMAGE,
                        "command": ["sh", "-c", script],
                        # kubectl caches discovery under $HOME; the root filesystem is read-only.
                        "env": [{"name": "HOME", "value": "/tmp"}],
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                                      "limits": {"cpu": "200m", "memory": "128Mi"}},
                        "securityContext": conv.container_security_context(KUBECTL_UID, read_only_root=True),
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on),
                                    # Pulumi waits for the Job as long as the Job may take.
                                    custom_timeouts=pulumi.CustomTimeouts(create=f"{deadline_seconds + 60}s",
                                                                          update=f"{deadline_seconds + 60}s")),
    )


def job_account(parent: pulumi.Resource, name: str, app_name: str,
                namespace: pulumi.Input[str]) -> tuple[pulumi.Output[str], k8s.rbac.v1.RoleBinding]:
    """The ServiceAccount the Jobs run as: it may read and scale the namespace's Deployments, and
    watch pods, nothing else."""
    child = pulumi.ResourceOptions(parent=parent)
    meta = {"name": f"{app_name}-upgrade", "namespace": namespace, "labels": conv.labels(app_name, "upgrade")}
    account = k8s.core.v1.ServiceAccount(f"{name}-upgrade-account", metadata=meta,
                                         automount_service_account_token=False, opts=child)
    role = k8s.rbac.v1.Role(f"{name}-upgrade-role", metadata=meta, rules=[
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "patch", "update"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    ], opts=child)
    binding = k8s.rbac.v1.RoleBinding(f"{name}-upgrade-binding", metadata=meta, role_ref={
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role.metadata.name},
        subjects=[{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": namespace}], opts=child)
    return account.metadata.name, binding
