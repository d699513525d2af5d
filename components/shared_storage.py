"""SharedStorage: one ReadWriteMany volume that every instance mounts at the app's data path.

mode storage-class: a claim on an RWX-capable class (dynamic provisioning).
mode nfs: a PersistentVolume on an NFS export, reserved for and bound to the claim.
mode efs: an encrypted EFS file system with backups, a mount target per availability zone and an access
point (POSIX user, its own root directory), bound the same way through the EFS CSI driver.
Never an inline `nfs:` pod volume, which the restricted profile forbids. The data outlives the
stack: Retain on the PV, and Pulumi `protect` plus `retain_on_delete` where the stack protects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import k8s as conv
from components.aws import Network, service_security_group
from config.aws import EfsConfig

NFS_PORT = 2049


@dataclass
class SharedStorageArgs:
    app_name: str
    namespace: pulumi.Input[str]
    mode: str  # storage-class | nfs | efs
    size: str
    storage_class: Optional[str] = None
    nfs_server: Optional[str] = None
    nfs_path: str = "/"
    efs: Optional[EfsConfig] = None
    network: Optional[Network] = None
    protect: bool = True


class SharedStorage(pulumi.ComponentResource):
    claim_name: pulumi.Output[str]
    # mode efs: what backups point at
    file_system: Optional[aws.efs.FileSystem] = None

    def __init__(self, name: str, args: SharedStorageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:SharedStorage", name, None, opts)
        self._labels = conv.labels(args.app_name, "storage")
        self._keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        claim_name = f"{args.app_name}-data"
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
                source = {"mountOptions": ["tls"],
                          "csi": {"driver": "efs.csi.aws.com", "volumeHandle": self._efs(name, args)}}
            volume = self._bound_volume(name, args, claim_name, source)
            claim_spec.update(storageClassName="", volumeName=volume.metadata.name)
            depends.append(volume)

        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-pvc",
            metadata={"name": claim_name, "namespace": args.namespace, "labels": self._labels},
            spec=claim_spec,
            opts=pulumi.ResourceOptions.merge(self._keep, pulumi.ResourceOptions(depends_on=depends)),
        )
        self.claim_name = claim.metadata.name
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

    def _efs(self, name: str, args: SharedStorageArgs) -> pulumi.Output[str]:
        efs, network = args.efs, args.network
        file_system = self.file_system = aws.efs.FileSystem(
            f"{name}-efs",
            encrypted=True,
            performance_mode="generalPurpose",
            throughput_mode=efs.throughput_mode,
            lifecycle_policies=[{"transition_to_ia": "AFTER_30_DAYS"}],
            tags={"Name": f"{args.app_name}-data"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.efs.BackupPolicy(f"{name}-efs-backup", file_system_id=file_system.id,
                             backup_policy={"status": "ENABLED"}, opts=pulumi.ResourceOptions(parent=file_system))
        security_group = service_security_group(self, name, network=network, service="nfs", port=NFS_PORT)
        mounts = [
            aws.efs.MountTarget(f"{name}-efs-mount-{i}", file_system_id=file_system.id, subnet_id=subnet,
                                security_groups=[security_group.id], opts=pulumi.ResourceOptions(parent=file_system))
            for i, subnet in enumerate(network.subnet_per_zone)
        ]
        access_point = aws.efs.AccessPoint(
            f"{name}-efs-access-point",
            file_system_id=file_system.id,
            # Every instance writes as this user, under its own directory: never the file system's root.
            posix_user={"uid": efs.uid, "gid": efs.gid},
            root_directory={"path": efs.root_directory, "creation_info": {
                "owner_uid": efs.uid, "owner_gid": efs.gid, "permissions": "0750"}},
            tags={"Name": f"{args.app_name}-data"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=mounts),
        )
        return pulumi.Output.concat(file_system.id, "::", access_point.id)
