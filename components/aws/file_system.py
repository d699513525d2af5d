"""Shared storage mode efs: an encrypted EFS file system with backups, a mount target per
availability zone and an access point (POSIX user, its own root directory), declared under the
SharedStorage component that binds a PersistentVolume to it through the EFS CSI driver."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pulumi
import pulumi_aws as aws

from components.aws.network import service_security_group

if TYPE_CHECKING:
    from components.kubernetes.shared_storage import SharedStorage, SharedStorageArgs

NFS_PORT = 2049


class EfsSettings(Protocol):
    """What the file system and access point read (the stack config's storage.efs has this shape)."""

    uid: int  # the POSIX user every instance writes as
    gid: int
    root_directory: str  # the access point's own directory, never the file system's root
    throughput_mode: str


def efs(component: SharedStorage, name: str, args: SharedStorageArgs) -> pulumi.Output[str]:
    """The file system and its access point, children of `component`; returns the CSI volume handle."""
    config, network = args.efs, args.network
    file_system = component.file_system = aws.efs.FileSystem(
        f"{name}-efs",
        encrypted=True,
        performance_mode="generalPurpose",
        throughput_mode=config.throughput_mode,
        lifecycle_policies=[{"transition_to_ia": "AFTER_30_DAYS"}],
        tags={"Name": f"{args.app_name}-data"},
        opts=pulumi.ResourceOptions(parent=component, protect=args.protect),
    )
    aws.efs.BackupPolicy(f"{name}-efs-backup", file_system_id=file_system.id,
                         backup_policy={"status": "ENABLED"}, opts=pulumi.ResourceOptions(parent=file_system))
    security_group = service_security_group(component, name, network=network, service="nfs", port=NFS_PORT)
    mounts = [
        aws.efs.MountTarget(f"{name}-efs-mount-{i}", file_system_id=file_system.id, subnet_id=subnet,
                            security_groups=[security_group.id], opts=pulumi.ResourceOptions(parent=file_system))
        for i, subnet in enumerate(network.subnet_per_zone)
    ]
    access_point = aws.efs.AccessPoint(
        f"{name}-efs-access-point",
        file_system_id=file_system.id,
        # Every instance writes as this user, under its own directory: never the file system's root.
        posix_user={"uid": config.uid, "gid": config.gid},
        root_directory={"path": config.root_directory, "creation_info": {
            "owner_uid": config.uid, "owner_gid": config.gid, "permissions": "0750"}},
        tags={"Name": f"{args.app_name}-data"},
        opts=pulumi.ResourceOptions(parent=component, protect=args.protect, depends_on=mounts),
    )
    return pulumi.Output.concat(file_system.id, "::", access_point.id)
