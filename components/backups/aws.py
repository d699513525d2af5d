"""Backups variant aws: an AWS Backup plan for the RDS instance and the EFS file system and, per
upgrade, an RDS snapshot named after the target version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.aws.network import physical_name
from components.backups.contract import BackupGate, BackupPlan
from components.kubernetes.conventions import version_slug
from components.shared import args as check


@dataclass(frozen=True, kw_only=True)
class RdsInstance:
    identifier: pulumi.Input[str]  # what the pre-upgrade snapshot is taken of
    arn: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class AwsBackups:
    kind: Literal["aws"] = "aws"
    rds: RdsInstance | None = None
    file_system_arn: pulumi.Input[str] | None = None  # the shared storage's EFS file system

    def __post_init__(self) -> None:
        check.require(
            self,
            self.rds is not None or self.file_system_arn is not None,
            "rds",
            "and file_system_arn are both None: name the RDS instance or the EFS file system to back up",
        )

    def declare(
        self, parent: pulumi.Resource, name: str, *, app_name: str, plan: BackupPlan, version: str
    ) -> BackupGate:
        before: tuple[pulumi.Resource, ...] = ()
        if self.rds is not None and plan.before_upgrade:
            slug = version_slug(version)
            # Named after the target version; kept when a later version supersedes it (Pulumi forgets it, AWS keeps it).
            before = (
                aws.rds.Snapshot(
                    f"{name}-before-{slug}",
                    db_instance_identifier=self.rds.identifier,
                    db_snapshot_identifier=physical_name(app_name, f"before-{slug}"),
                    opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=True),
                ),
            )
        targets = [arn for arn in (self.rds.arn if self.rds else None, self.file_system_arn) if arn is not None]
        self._plan(parent, name, app_name, plan, targets)
        return BackupGate(before)

    @staticmethod
    def _plan(
        parent: pulumi.Resource, name: str, app_name: str, plan: BackupPlan, targets: list[pulumi.Input[str]]
    ) -> None:
        """A vault, a plan on the configured schedule and a selection of `targets` (ARNs)."""
        child = pulumi.ResourceOptions(parent=parent)
        vault = aws.backup.Vault(f"{name}-vault", name=physical_name(app_name, "backups"), opts=child)
        minute, hour, day, month, weekday = plan.schedule.split()
        # AWS Backup wants cron(min hour day month weekday year) with '?' in one of day/weekday.
        aws_cron = (
            f"cron({minute} {hour} {day if weekday == '*' else '?'} {month} {'?' if weekday == '*' else weekday} *)"
        )
        backup_plan = aws.backup.Plan(
            f"{name}-plan",
            name=physical_name(app_name, "backups"),
            rules=[
                {
                    "rule_name": "scheduled",
                    "target_vault_name": vault.name,
                    "schedule": aws_cron,
                    "lifecycle": {"delete_after": plan.retention_days},
                }
            ],
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            description=f"{app_name}: AWS Backup of the database and file system",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "backup.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
            opts=pulumi.ResourceOptions(parent=role),
        )
        # A selection is immutable: any change replaces it, under the same name.
        aws.backup.Selection(
            f"{name}-selection",
            name=physical_name(app_name, "data"),
            plan_id=backup_plan.id,
            iam_role_arn=role.arn,
            resources=targets,
            opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
        )
