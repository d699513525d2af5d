"""SharedStorage: one ReadWriteMany volume that every instance mounts at the app's data path.

mode storage-class: a claim on an RWX-capable class (dynamic provisioning).
mode nfs: a PersistentVolume on an NFS export, reserved for and bound to the claim.
mode efs: an EFS file system (components/aws/file_system.py, loaded only for that mode), bound the
same way through the EFS CSI driver.
Never an inline `nfs:` pod volume, which the restricted profile forbids. The data outlives the
stack: Retain on the PV, and Pulumi `protect` plus `retain_on_delete` where the stack protects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv
from components.shared import args as check

if TYPE_CHECKING:
    from components.aws.network import Network
    from components.aws.file_system import EfsSettings


Mode = Literal["storage-class", "nfs", "efs"]


@dataclass(frozen=True, kw_only=True)
class SharedStorageArgs:
    app_name: str  # names and labels: the claim is <app>-data
    namespace: pulumi.Input[str]  # where the claim goes
    mode: Mode  # what backs the ReadWriteMany volume
    size: str  # the claim's (and the PV's) capacity, a Kubernetes quantity
    storage_class: Optional[str] = None  # mode storage-class: an RWX-capable class
    nfs_server: Optional[str] = None  # mode nfs: the server's host name or address
    nfs_path: str = "/"  # mode nfs: the export's absolute path
    efs: Optional[EfsSettings] = None  # mode efs: POSIX user, root directory, throughput
    network: Optional[Network] = None  # mode efs: the EKS cluster's VPC, subnets and node security group
    protect: bool = True  # protect (and retain on delete) the volume and its data

    def __post_init__(self) -> None:
        check.mode(self, Mode, {"storage-class": ("storage_class",), "nfs": ("nfs_server",), "efs": ("efs", "network")})
        if self.mode == "nfs":
            check.absolute(self, "nfs_path")


def claim_name(app_name: str) -> str:
    return f"{app_name}-data"


class SharedStorage(pulumi.ComponentResource):
    claim_name: pulumi.Output[str]
    # mode efs: the EFS file system, what backups point at
    file_system: Optional[Any] = None

    def __init__(self, name: str, args: SharedStorageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:SharedStorage", name, None, opts)
        self._labels = conv.labels(args.app_name, "storage")
        self._keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        claim = claim_name(args.app_name)
        claim_spec: dict = {
            "accessModes": ["ReadWriteMany"],
            "resources": {"requests": {"storage": args.size}},
        }
        depends: list[pulumi.Resource] = []
        if args.mode == "storage-class":
            claim_spec["storageClassName"] = args.storage_class
        else:
            if args.mode == "nfs":
                source = {"mountOptions": ["nfsvers=4.1", "hard"],
                          "nfs": {"server": args.nfs_server, "path": args.nfs_path}}
            else:
                from components.aws.file_system import efs

                handle = efs(self, name, args)
                source = {"mountOptions": ["tls"], "csi": {"driver": "efs.csi.aws.com", "volumeHandle": handle}}
            volume = self._bound_volume(name, args, claim, source)
            claim_spec.update(storageClassName="", volumeName=volume.metadata.name)
            depends.append(volume)

        made = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-pvc",
            metadata={"name": claim, "namespace": args.namespace, "labels": self._labels},
            spec=claim_spec,
            opts=pulumi.ResourceOptions.merge(self._keep, pulumi.ResourceOptions(depends_on=depends)),
        )
        self.claim_name = made.metadata.name
        self.register_outputs({"claim_name": self.claim_name})

    def _bound_volume(self, name: str, args: SharedStorageArgs, claim_name: str, source: dict) -> k8s.core.v1.PersistentVolume:
        return k8s.core.v1.PersistentVolume(
            f"{name}-pv",
            metadata={"name": pulumi.Output.concat(args.namespace, "-", claim_name), "labels": self._labels},
            spec={
                "capacity": {"storage": args.size},
                "accessModes": ["ReadWriteMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                # Reserve the PV for our claim so no other claim can bind it first.
                "claimRef": {"namespace": args.namespace, "name": claim_name},
                **source,
            },
            opts=self._keep,
        )
