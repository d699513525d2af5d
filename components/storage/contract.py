"""What a SharedStorage variant hands back: the claim the app mounts, and what backups point at."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


def claim_name(app_name: str) -> str:
    """The claim every variant ends in; preflight reads it to find an existing one."""
    return f"{app_name}-data"


@dataclass(frozen=True)
class StorageMount:
    claim_name: pulumi.Output[str]  # what every instance (and the dump Jobs) mounts
    # efs: the file system's ARN, for the AWS Backup plan; None where the data is not on AWS.
    file_system_arn: pulumi.Output[str] | None = None
