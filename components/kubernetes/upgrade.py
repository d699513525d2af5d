"""The upgrade gate of apps that must not mix versions (NocoBase): before the primary moves to a new
version, a Job stops every other instance; once the primary is ready and the others are declared at
the new version, a second Job brings back any role that still sits at zero.

The scripts are plain POSIX sh around kubectl, kept here as functions so the tests run them for real.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv
from components.shared import args as check

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
        lines.append(
            f'if [ "$(kubectl get {ref} -o jsonpath={{.spec.replicas}})" = 0 ]; then '
            f'kubectl scale {ref} --replicas={count}; else echo "{name}: already running"; fi'
        )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, kw_only=True)
class UpgradeGateArgs:
    app_name: str  # names and labels: <app>-upgrade, <app>-stop-before-<version>
    namespace: pulumi.Input[str]  # the app's namespace: the Jobs scale its Deployments only
    version: str  # the version the primary moves to; names the Jobs, the one thing that makes them run again
    others_selector: str  # a label selector for every instance but the primary
    wait_seconds: int  # how long the stop Job waits for the others' pods to go

    def __post_init__(self) -> None:
        check.require(self, bool(self.version), "version", "names the Jobs: it must not be empty")
        check.require(self, bool(self.others_selector), "others_selector", "must select the other instances")
        check.require(self, self.wait_seconds >= 0, "wait_seconds", "must not be negative")


class UpgradeGate(pulumi.ComponentResource):
    """The stop Job and its RBAC (a ServiceAccount that may only read and scale the namespace's
    Deployments and watch pods); `resume` adds the Job that brings the others back.

    Its children were the AppCluster's before this component existed: each names that parent in
    `aliases`, so moving them here replaced nothing."""

    stop_job: k8s.batch.v1.Job

    def __init__(
        self,
        name: str,
        args: UpgradeGateArgs,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        """`name` is the app cluster's: the gate is `<name>-upgrade-gate`, and its children keep the
        names they had under the AppCluster (`<name>-upgrade-account`, `<name>-stop-before-<version>`).
        The stop waits for `after` (the pre-upgrade backup): a backup that fails stops nothing, and
        the old version keeps serving with every role."""
        super().__init__("appcluster:index:UpgradeGate", f"{name}-upgrade-gate", None, opts)
        self._args, self._name = args, name
        self._child = pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=opts.parent if opts else None)])
        meta = {
            "name": f"{args.app_name}-upgrade",
            "namespace": args.namespace,
            "labels": conv.labels(args.app_name, "upgrade"),
        }
        account = k8s.core.v1.ServiceAccount(
            f"{name}-upgrade-account", metadata=meta, automount_service_account_token=False, opts=self._child
        )
        role = k8s.rbac.v1.Role(
            f"{name}-upgrade-role",
            metadata=meta,
            rules=[
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
                {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "patch", "update"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            ],
            opts=self._child,
        )
        self._binding = k8s.rbac.v1.RoleBinding(
            f"{name}-upgrade-binding",
            metadata=meta,
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role.metadata.name},
            subjects=[{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": args.namespace}],
            opts=self._child,
        )
        self._account = account.metadata.name
        slug = conv.version_slug(args.version)
        # A Job per target version: the primary moves only after it succeeds. On a first install there
        # is nothing to stop and it ends at once.
        self.stop_job = self._job(
            f"{name}-stop-before-{slug}",
            f"{args.app_name}-stop-before-{slug}",
            stop_script(args.others_selector, args.wait_seconds),
            args.wait_seconds + 120,
            [self._binding, *after],
        )
        self.register_outputs({"stop_job": self.stop_job.metadata.name})

    def resume(self, counts: Mapping[str, int], after: Sequence[pulumi.Resource]) -> k8s.batch.v1.Job:
        """Once `after` (the others, declared at the new version) exist, bring back any of `counts`
        (Deployment -> instances) the stop Job left at zero."""
        slug = conv.version_slug(self._args.version)
        return self._job(
            f"{self._name}-resume-after-{slug}",
            f"{self._args.app_name}-resume-after-{slug}",
            resume_script(counts),
            300,
            [self._binding, *after],
        )

    def _job(
        self, name: str, job_name: str, script: str, deadline: int, depends_on: Sequence[pulumi.Resource]
    ) -> k8s.batch.v1.Job:
        """A Job that runs `script` with kubectl as the gate's ServiceAccount, once (no retries)."""
        labels = conv.labels(self._args.app_name, "upgrade")
        return k8s.batch.v1.Job(
            name,
            metadata={"name": job_name, "namespace": self._args.namespace, "labels": labels},
            spec={
                # A script that fails says why; retrying it would only repeat that.
                "backoffLimit": 0,
                "activeDeadlineSeconds": deadline,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "restartPolicy": "Never",
                        "serviceAccountName": self._account,
                        # The one pod that needs the API: it scales the app's own Deployments.
                        "automountServiceAccountToken": True,
                        "securityContext": conv.pod_security_context(KUBECTL_UID),
                        "containers": [
                            {
                                "name": "kubectl",
                                "image": KUBECTL_IMAGE,
                                "command": ["sh", "-c", script],
                                # kubectl caches discovery under $HOME; the root filesystem is read-only.
                                "env": [{"name": "HOME", "value": "/tmp"}],
                                "resources": {
                                    "requests": {"cpu": "10m", "memory": "32Mi"},
                                    "limits": {"cpu": "200m", "memory": "128Mi"},
                                },
                                "securityContext": conv.container_security_context(KUBECTL_UID, read_only_root=True),
                                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                            }
                        ],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    },
                },
            },
            opts=pulumi.ResourceOptions.merge(
                self._child,
                pulumi.ResourceOptions(
                    depends_on=list(depends_on),
                    # Its name is what makes it run: once per version, the stop with its resume. The spec is
                    # immutable, so any change Pulumi saw in it (the wait from the grace period, the kubectl
                    # image, a count) would replace the Job and run it again: a stop without an upgrade, and
                    # no resume after it. The next version's pair is created with the settings of the day.
                    ignore_changes=["spec"],
                    # Pulumi waits for the Job as long as the Job may take.
                    custom_timeouts=pulumi.CustomTimeouts(create=f"{deadline + 60}s", update=f"{deadline + 60}s"),
                ),
            ),
        )
