"""Backups: scheduled, and one before every upgrade, named after the version being installed."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from config.aws import S3Bucket
from config.base import Model, matching

# What each of the five fields may hold (the step after '/' is any count).
_CRON_RANGES = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
_CRON_FIELD = r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*"


S3Prefix = Annotated[
    str,
    matching(
        r"[A-Za-z0-9!_.*'()/-]*",
        "may hold letters, digits and ! _ . * ' ( ) / - only (S3's safe key characters), e.g. backups/shop",
    ),
]
RoleArn = Annotated[
    str,
    matching(
        r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+",
        "must be an IAM role ARN, e.g. arn:aws:iam::123456789012:role/shop-backups",
    ),
]


class S3Target(Model):
    """Send in-cluster dumps to S3 instead of the shared storage. The Job's ServiceAccount assumes
    `roleArn` through IRSA (it needs s3:PutObject on the bucket); the bucket's lifecycle keeps them."""

    bucket: S3Bucket
    """The bucket the dumps go to."""
    prefix: S3Prefix = "appcluster"
    """The key prefix of the dumps."""
    role_arn: RoleArn
    """The IAM role the backup Job assumes through IRSA (s3:PutObject on the bucket)."""


class BackupConfig(Model):
    # In-cluster: a CronJob dumping the database into the shared storage. AWS: an AWS Backup plan
    # for RDS and EFS (cron in UTC, in AWS's 6-field form derived from this one).
    schedule: str = "0 3 * * *"
    """A 5-field cron (UTC): the in-cluster dump CronJob, or the AWS Backup plan for RDS and EFS."""
    retention_days: int = Field(14, ge=1, le=3650)
    """How many days backups are kept."""
    # Take a backup (dump Job / RDS snapshot) before the primary moves to a new image.
    before_upgrade: bool = True
    """Take a backup (dump Job or RDS snapshot) before the primary moves to a new image."""
    s3: S3Target | None = None
    """Send in-cluster dumps to S3 instead of the shared storage."""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5 or not all(re.fullmatch(_CRON_FIELD, f) for f in fields):
            raise ValueError("must be a 5-field cron expression such as '0 3 * * *' (minute hour day month weekday)")
        for field, (name, low, high) in zip(fields, _CRON_RANGES, strict=True):
            for number in map(int, re.findall(r"(?<![/\d])\d+", field)):
                if not low <= number <= high:
                    raise ValueError(f"{name} {number} is out of range: {name}s run {low}–{high}")
        return value
