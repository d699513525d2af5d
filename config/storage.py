"""Shared storage for the app's data directory: one ReadWriteMany volume for every instance."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from config.aws import EfsConfig
from config.base import AbsPath, ByteSize, Model


class NfsServer(Model):
    server: str
    """The NFS server's host name or address."""
    # The export's absolute path on the server (a relative one mounts nothing the PV can name).
    path: AbsPath = "/"
    """The export's absolute path on the server (a relative one mounts nothing the PV can name)."""


class StorageConfig(Model):
    # storage-class: a PVC from an RWX-capable class; nfs: a PV on an NFS export, bound to the PVC;
    # efs: an encrypted EFS file system and access point, mounted through the EFS CSI driver.
    mode: Literal["storage-class", "nfs", "efs"] = "storage-class"
    """storage-class: a PVC from an RWX class; nfs: a PV on an NFS export; efs: an encrypted EFS file system and access point."""
    storage_class: str | None = None
    """An RWX-capable storage class (e.g. efs-sc, nfs-client, azurefile); required with mode storage-class."""
    size: ByteSize = "10Gi"
    """The shared volume's size."""
    nfs: NfsServer | None = None
    """The NFS export of mode nfs."""
    efs: EfsConfig = EfsConfig()
    """The access point of mode efs."""

    @model_validator(mode="after")
    def _source(self) -> StorageConfig:
        if self.mode == "storage-class" and not self.storage_class:
            raise ValueError(
                "storageClass is required with mode storage-class: name a class that supports ReadWriteMany "
                "(e.g. efs-sc, nfs-client, azurefile)"
            )
        if self.mode == "nfs" and self.nfs is None:
            raise ValueError("nfs: {server, path} is required with mode nfs")
        return self
