"""The Kubernetes claim every SharedStorage variant ends in, and the PersistentVolume reserved for it
where the variant names the source (nfs, efs). The data outlives the stack: Retain on the PV, and
Pulumi `protect` plus `retain_on_delete` where the stack protects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv
from components.storage.contract import claim_name


@dataclass(frozen=True, kw_only=True)
class Claim:
    """What every Kubernetes variant needs: where the claim goes and how big it is."""

    namespace: pulumi.Input[str]
    size: str  # the claim's (and the PV's) capacity, a Kubernetes quantity


def declare_claim(
    parent: pulumi.Resource,
    name: str,
    *,
    app_name: str,
    claim: Claim,
    protect: bool,
    storage_class: str | None = None,
    source: dict[str, Any] | None = None,
) -> pulumi.Output[str]:
    """The claim on `storage_class`, or bound to a PV on `source` (its mount options and nfs/csi block)."""
    labels = conv.labels(app_name, "storage")
    keep = pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect)
    claimed = claim_name(app_name)
    spec: dict[str, Any] = {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": claim.size}}}
    depends: list[pulumi.Resource] = []
    if source is None:
        spec["storageClassName"] = storage_class
    else:
        volume = k8s.core.v1.PersistentVolume(
            f"{name}-pv",
            metadata={"name": pulumi.Output.concat(claim.namespace, "-", claimed), "labels": labels},
            spec={
                "capacity": {"storage": claim.size},
                "accessModes": ["ReadWriteMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                # Reserve the PV for our claim so no other claim can bind it first.
                "claimRef": {"namespace": claim.namespace, "name": claimed},
                **source,
            },
            opts=keep,
        )
        spec.update(storageClassName="", volumeName=volume.metadata.name)
        depends.append(volume)
    made = k8s.core.v1.PersistentVolumeClaim(
        f"{name}-pvc",
        metadata={"name": claimed, "namespace": claim.namespace, "labels": labels},
        spec=spec,
        opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(depends_on=depends)),
    )
    return made.metadata.name
