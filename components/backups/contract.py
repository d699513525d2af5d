"""What the Backups variants share: the plan they read, and what each hands back (the resources that
must finish before the primary may move to a new version)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pulumi

# The component label of the dump pods (the database's NetworkPolicy admits it).
COMPONENT = "backup"


class S3Upload(Protocol):
    """Where dumps go instead of the shared storage: the Job's ServiceAccount assumes role_arn (IRSA)."""

    @property
    def bucket(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def role_arn(self) -> str: ...


class BackupPlan(Protocol):
    """What the backups read (the stack config's `backup` has this shape)."""

    @property
    def schedule(self) -> str: ...  # 5-field cron, UTC
    @property
    def retention_days(self) -> int: ...
    @property
    def before_upgrade(self) -> bool: ...  # a dump Job / RDS snapshot before the primary moves to a new version
    @property
    def s3(self) -> S3Upload | None: ...


@dataclass(frozen=True)
class BackupGate:
    # What must finish before the primary may move to the new version (empty: nothing to wait for).
    before_upgrade: tuple[pulumi.Resource, ...] = ()
