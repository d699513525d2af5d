"""The shared secrets as one Kubernetes Secret, `<app>-shared`: every instance reads the same keys
from it (by secretKeyRef), so no two instances can disagree on APP_KEY or a password."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.shared.secrets import SharedSecrets


def publish(
    secrets: SharedSecrets, *, app_name: str, namespace: pulumi.Input[str], labels: Mapping[str, str]
) -> pulumi.Output[str]:
    """Declares the Secret under the SharedSecrets component; returns its name."""
    secret = k8s.core.v1.Secret(
        f"{secrets.resource_name}-secret",
        metadata={"name": f"{app_name}-shared", "namespace": namespace, "labels": dict(labels)},
        type="Opaque",
        string_data=secrets.values,
        opts=pulumi.ResourceOptions(parent=secrets),
    )
    return secret.metadata.name
