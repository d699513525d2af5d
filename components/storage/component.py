"""The SharedStorage component: declares its variant and exposes the variant's StorageMount."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from components.storage.contract import StorageMount

if TYPE_CHECKING:
    from components.storage.efs import EfsStorage
    from components.storage.nfs import NfsStorage
    from components.storage.storage_class import StorageClassStorage

    StorageVariant = StorageClassStorage | NfsStorage | EfsStorage


@dataclass(frozen=True, kw_only=True)
class SharedStorageArgs:
    app_name: str  # names and labels: the claim is <app>-data
    variant: StorageVariant  # what backs the ReadWriteMany volume
    protect: bool = True  # protect (and retain on delete) the volume and its data


class SharedStorage(pulumi.ComponentResource):
    claim_name: pulumi.Output[str]
    mount: StorageMount

    def __init__(self, name: str, args: SharedStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:SharedStorage", name, None, opts)
        self.mount = args.variant.declare(self, name, app_name=args.app_name, protect=args.protect)
        self.claim_name = self.mount.claim_name
        self.register_outputs({"claim_name": self.claim_name})
