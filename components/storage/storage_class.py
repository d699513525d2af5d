"""SharedStorage variant storage-class: a claim on an RWX-capable class (dynamic provisioning)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.shared import args as check
from components.storage.claim import Claim, declare_claim
from components.storage.contract import StorageMount


@dataclass(frozen=True, kw_only=True)
class StorageClassStorage(Claim):
    kind: Literal["storage-class"] = "storage-class"
    storage_class: str  # a class that supports ReadWriteMany

    def __post_init__(self) -> None:
        check.require(self, bool(self.storage_class), "storage_class", "must name a class that supports ReadWriteMany")

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> StorageMount:
        return StorageMount(
            declare_claim(
                parent, name, app_name=app_name, claim=self, protect=protect, storage_class=self.storage_class
            )
        )
