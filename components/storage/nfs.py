"""SharedStorage variant nfs: a PersistentVolume on an NFS export, reserved for and bound to the claim."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.shared import args as check
from components.storage.claim import Claim, declare_claim
from components.storage.contract import StorageMount


@dataclass(frozen=True, kw_only=True)
class NfsStorage(Claim):
    kind: Literal["nfs"] = "nfs"
    server: str  # the server's host name or address
    path: str = "/"  # the export's absolute path

    def __post_init__(self) -> None:
        check.require(self, bool(self.server), "server", "must name the NFS server")
        check.absolute(self, "path")

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> StorageMount:
        source = {"mountOptions": ["nfsvers=4.1", "hard"], "nfs": {"server": self.server, "path": self.path}}
        return StorageMount(declare_claim(parent, name, app_name=app_name, claim=self, protect=protect, source=source))
