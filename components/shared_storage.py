"""SharedStorage: one ReadWriteMany volume that every instance mounts at the app's data path.

From an RWX-capable storage class (dynamic), or from an NFS export through a PersistentVolume
bound to the claim; never an inline `nfs:` pod volume, which the restricted profile forbids.
The claim always outlives the stack's resources it serves: Retain on the PV, and Pulumi
`protect` plus `retain_on_delete` on both where the stack protects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components import k8s as conv


@dataclass
class SharedStorageArgs:
    app_name: str
    namespace: pulumi.Input[str]
    mode: str  # storage-class | nfs
    size: str
    storage_class: Optional[str] = None
    nfs_server: Optional[str] = None
    nfs_path: str = "/"
    protect: bool = True


class SharedStorage(pulumi.ComponentResource):
    claim_name: pulumi.Output[str]

    def __init__(self, name: str, args: SharedStorageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:SharedStorage", name, None, opts)
        labels = conv.labels(args.app_name, "storage")
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        claim_name = f"{args.app_name}-data"
        claim_spec: dict = {
            "accessModes": ["ReadWriteMany"],
            "resources": {"requests": {"storage": args.size}},
        }
        depends: list[pulumi.Resource] = []
        if args.mode == "nfs":
            volume = k8s.core.v1.PersistentVolume(
                f"{name}-pv",
                metadata={"name": pulumi.Output.concat(args.namespace, "-", claim_name), "labels": labels},
                spec={
                    "capacity": {"storage": args.size},
                    "accessModes": ["ReadWriteMany"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": "",
                    "mountOptions": ["nfsvers=4.1", "hard"],
                    "nfs": {"server": args.nfs_server, "path": args.nfs_path},
                    # Reserve the PV for our claim so no other claim can bind it first.
                    "claimRef": {"namespace": args.namespace, "name": claim_name},
                },
                opts=keep,
            )
            claim_spec.update(storageClassName="", volumeName=volume.metadata.name)
            depends.append(volume)
        else:
            claim_spec["storageClassName"] = args.storage_class

        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-pvc",
            metadata={"name": claim_name, "namespace": args.namespace, "labels": labels},
            spec=claim_spec,
            opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(depends_on=depends)),
        )
        self.claim_name = claim.metadata.name
        self.register_outputs({"claim_name": self.claim_name})
