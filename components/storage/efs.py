"""SharedStorage variant efs: an encrypted EFS file system with backups, a mount target per
availability zone and an access point (POSIX user, its own root directory), bound to the claim
through the EFS CSI driver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import pulumi
import pulumi_aws as aws

from components.aws.network import Network, service_security_group
from components.storage.claim import Claim, declare_claim
from components.storage.contract import StorageMount

NFS_PORT = 2049


class EfsSettings(Protocol):
    """What the file system and access point read (the stack config's storage.efs has this shape)."""

    @property
    def uid(self) -> int: ...  # the POSIX user every instance writes as
    @property
    def gid(self) -> int: ...
    @property
    def root_directory(self) -> str: ...  # the access point's own directory, never the file system's root
    @property
    def throughput_mode(self) -> str: ...


@dataclass(frozen=True, kw_only=True)
class EfsStorage(Claim):
    kind: Literal["efs"] = "efs"
    efs: EfsSettings
    network: Network  # the EKS cluster's VPC, subnets and node security group

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> StorageMount:
        config, network = self.efs, self.network
        file_system = aws.efs.FileSystem(
            f"{name}-efs",
            encrypted=True,
            performance_mode="generalPurpose",
            throughput_mode=config.throughput_mode,
            lifecycle_policies=[{"transition_to_ia": "AFTER_30_DAYS"}],
            tags={"Name": f"{app_name}-data"},
            opts=pulumi.ResourceOptions(parent=parent, protect=protect),
        )
        aws.efs.BackupPolicy(
            f"{name}-efs-backup",
            file_system_id=file_system.id,
            backup_policy={"status": "ENABLED"},
            opts=pulumi.ResourceOptions(parent=file_system),
        )
        security_group = service_security_group(parent, name, network=network, service="nfs", port=NFS_PORT)
        mounts = [
            aws.efs.MountTarget(
                f"{name}-efs-mount-{i}",
                file_system_id=file_system.id,
                subnet_id=subnet,
                security_groups=[security_group.id],
                opts=pulumi.ResourceOptions(parent=file_system),
            )
            for i, subnet in enumerate(network.subnet_per_zone)
        ]
        access_point = aws.efs.AccessPoint(
            f"{name}-efs-access-point",
            file_system_id=file_system.id,
            # Every instance writes as this user, under its own directory: never the file system's root.
            posix_user={"uid": config.uid, "gid": config.gid},
            root_directory={
                "path": config.root_directory,
                "creation_info": {"owner_uid": config.uid, "owner_gid": config.gid, "permissions": "0750"},
            },
            tags={"Name": f"{app_name}-data"},
            opts=pulumi.ResourceOptions(parent=parent, protect=protect, depends_on=mounts),
        )
        source = {
            "mountOptions": ["tls"],
            "csi": {
                "driver": "efs.csi.aws.com",
                "volumeHandle": pulumi.Output.concat(file_system.id, "::", access_point.id),
            },
        }
        claim = declare_claim(parent, name, app_name=app_name, claim=self, protect=protect, source=source)
        return StorageMount(claim, file_system_arn=file_system.arn)
