"""Shared storage for the app's data directory: one ReadWriteMany volume for every instance."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import model_validator

from config.aws import EfsConfig
from config.base import AbsPath, ByteSize, Model


class NfsServer(Model):
    server: str
    # The export's absolute path on the server (a relative one mounts nothing the PV can name).
    path: AbsPath = "/"


class StorageConfig(Model):
    # storage-class: a PVC from an RWX-capable class; nfs: a PV on an NFS export, bound to the PVC;
    # efs: an encrypted EFS file system and access point, mounted through the EFS CSI driver.
    mode: Literal["storage-class", "nfs", "efs"] = "storage-class"
    storage_class: Optional[str] = None
    size: ByteSize = "10Gi"
    nfs: Optional[NfsServer] = None
    efs: EfsConfig = EfsConfig()

    @model_validator(mode="after")
    def _source(self) -> "StorageConfig":
        if self.mode == "storage-class" and not self.storage_class:
            raise ValueError(
                "storageClass is required with mode storage-class: name a class that supports ReadWriteMany "
                "(e.g. efs-sc, nfs-client, azurefile)"
            )
        if self.mode == "nfs" and self.nfs is None:
            raise ValueError("nfs: {server, path} is required with mode nfs")
        return self
