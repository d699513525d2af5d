"""Kubernetes conventions every component follows: labels, security contexts, probes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

PART_OF = "appcluster"
ROLE_LABEL = "appcluster.io/role"
# The volumeClaimTemplate of a stateful server: its claims are named after it.
SERVER_VOLUME = "data"


def version_slug(version: str) -> str:
    """A version as it can appear in resource names (Jobs and snapshots named after the version)."""
    return re.sub(r"[^a-z0-9-]+", "-", version.lower()).strip("-")[:24] or "unversioned"


def labels(app: str, component: str, role: str | None = None) -> dict[str, str]:
    out = {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": app,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }
    if role:
        out[ROLE_LABEL] = role
    return out


def selector(app: str, component: str) -> dict[str, str]:
    """The stable subset of labels used to select pods (selectors are immutable)."""
    return {"app.kubernetes.io/instance": app, "app.kubernetes.io/component": component}


def server_claim(app: str, component: str) -> str:
    """The claim a server's StatefulSet makes from its volumeClaimTemplate for its one replica."""
    return f"{SERVER_VOLUME}-{app}-{component}-0"


def pod_security_context(run_as_user: int | None, fs_group: int | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if run_as_user is not None:
        ctx.update(runAsNonRoot=True, runAsUser=run_as_user, runAsGroup=run_as_user)
    if fs_group is not None or run_as_user is not None:
        ctx["fsGroup"] = fs_group if fs_group is not None else run_as_user
        ctx["fsGroupChangePolicy"] = "OnRootMismatch"
    return ctx


def container_security_context(
    run_as_user: int | None, read_only_root: bool, capabilities: Sequence[str] = ()
) -> dict[str, Any]:
    """Restricted (PSS) when the image runs as a user; for root images, drop ALL and add back only
    what the profile names, so nothing else of root's power remains."""
    caps: dict[str, Any] = {"drop": ["ALL"]}
    if run_as_user is None and capabilities:
        caps["add"] = list(capabilities)
    ctx: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": read_only_root,
        "capabilities": caps,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if run_as_user is not None:
        ctx["runAsNonRoot"] = True
    return ctx


def exec_probe(command: Sequence[str], period: int = 10, failures: int = 3, timeout: int = 5) -> dict[str, Any]:
    return {
        "exec": {"command": list(command)},
        "periodSeconds": period,
        "failureThreshold": failures,
        "timeoutSeconds": timeout,
    }


def spread(keys: Sequence[str], match_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    # ScheduleAnyway: a single-node or single-zone cluster still schedules every instance.
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(match_labels)},
        }
        for key in keys
    ]


@dataclass(frozen=True, kw_only=True)
class ServerArgs:
    """How to run an in-cluster stateful server (Redis, a database): the same knobs for each."""

    image: str
    password: pulumi.Input[str]
    # The Secret, and the key in it, the server reads its password from.
    secret_name: pulumi.Input[str]
    password_key: str
    storage_size: str
    storage_class: str | None = None
    resources: Mapping[str, Any] = field(default_factory=dict)
    protect: bool = True


def single_stateful_server(
    parent: pulumi.Resource,
    name: str,
    *,
    app: str,
    component: str,
    namespace: pulumi.Input[str],
    port: int,
    server: ServerArgs,
    container: dict[str, Any],
    uid: int,
    data_path: str,
    grace_seconds: int,
    scratch_paths: Sequence[str] = (),
) -> pulumi.Output[str]:
    """One stateful server (Redis, a database): a ClusterIP Service as its only entry point and a
    one-replica StatefulSet whose data lives on a PVC that outlives it. Returns the Service's DNS name.

    The container gets its image, resources, port, volume mounts and a restricted security context
    here; it brings its env and probes.
    """
    service_name = f"{app}-{component}"
    meta_labels = labels(app, component)
    pod_selector = selector(app, component)
    service = k8s.core.v1.Service(
        f"{name}-service",
        metadata={"name": service_name, "namespace": namespace, "labels": meta_labels},
        spec={
            "type": "ClusterIP",
            "selector": pod_selector,
            "ports": [{"name": component, "port": port, "targetPort": component, "protocol": "TCP"}],
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )
    scratch = [(f"scratch-{i}", path) for i, path in enumerate(scratch_paths)]
    container = {
        **container,
        "image": server.image,
        "resources": dict(server.resources),
        "ports": [{"name": component, "containerPort": port, "protocol": "TCP"}],
        "securityContext": container_security_context(uid, read_only_root=True),
        "volumeMounts": [{"name": SERVER_VOLUME, "mountPath": data_path}]
        + [{"name": volume, "mountPath": path} for volume, path in scratch],
    }
    k8s.apps.v1.StatefulSet(
        f"{name}-statefulset",
        metadata={"name": service_name, "namespace": namespace, "labels": meta_labels},
        spec={
            "serviceName": service_name,
            "replicas": 1,
            "selector": {"matchLabels": pod_selector},
            # Deleting or scaling the StatefulSet must never take the data with it.
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": meta_labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security_context(uid),
                    "terminationGracePeriodSeconds": grace_seconds,
                    "containers": [container],
                    "volumes": [{"name": volume, "emptyDir": {}} for volume, _ in scratch],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": SERVER_VOLUME, "labels": meta_labels},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": server.storage_size}},
                        **({"storageClassName": server.storage_class} if server.storage_class else {}),
                    },
                }
            ],
        },
        opts=pulumi.ResourceOptions(parent=parent, protect=server.protect, depends_on=[service]),
    )
    return pulumi.Output.concat(service_name, ".", namespace, ".svc.cluster.local")
