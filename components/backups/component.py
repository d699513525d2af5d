"""The Backups component: declares each of its variants under itself and gathers what the primary's
upgrade waits on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from components.backups.contract import BackupPlan
from components.shared import args as check

if TYPE_CHECKING:
    from components.backups.aws import AwsBackups
    from components.backups.dump import DumpBackups

    BackupsVariant = DumpBackups | AwsBackups


@dataclass(frozen=True, kw_only=True)
class BackupsArgs:
    app_name: str
    config: BackupPlan  # schedule, retention, pre-upgrade backups, S3
    # The version the primary is about to run; names the pre-upgrade backup.
    version: str
    variants: tuple[BackupsVariant, ...] = ()  # none: nothing of ours to back up (sqlite, external)

    def __post_init__(self) -> None:
        check.require(self, bool(self.version), "version", "names the pre-upgrade backup: it must not be empty")
        kinds = [variant.kind for variant in self.variants]
        check.require(self, len(set(kinds)) == len(kinds), "variants", "must not repeat a kind")


class Backups(pulumi.ComponentResource):
    # What must finish before the primary may move to the new version.
    before_upgrade: list[pulumi.Resource]

    def __init__(self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:Backups", name, None, opts)
        self.before_upgrade = []
        for variant in args.variants:
            gate = variant.declare(self, name, app_name=args.app_name, plan=args.config, version=args.version)
            self.before_upgrade += gate.before_upgrade
        self.register_outputs({})
