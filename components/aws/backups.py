"""Backups on AWS: an RDS snapshot before the primary moves to a new version, and an AWS Backup plan
for the RDS instance and the EFS file system, declared under the Backups component."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.aws.network import physical_name

if TYPE_CHECKING:
    from components.kubernetes.backups import Backups, BackupsArgs


def snapshot_before_upgrade(component: Backups, name: str, args: BackupsArgs, slug: str) -> pulumi.Resource:
    """Named after the target version; kept when a later version supersedes it (Pulumi forgets it, AWS keeps it)."""
    return aws.rds.Snapshot(
        f"{name}-before-{slug}", db_instance_identifier=args.rds_instance.identifier,
        db_snapshot_identifier=physical_name(args.app_name, f"before-{slug}"),
        opts=pulumi.ResourceOptions(parent=component, retain_on_delete=True))


def plan(component: Backups, name: str, args: BackupsArgs, targets: list[pulumi.Output[str]]) -> None:
    """A vault, a plan on the configured schedule and a selection of `targets` (ARNs), children of `component`."""
    child = pulumi.ResourceOptions(parent=component)
    vault = aws.backup.Vault(f"{name}-vault", name=physical_name(args.app_name, "backups"), opts=child)
    minute, hour, day, month, weekday = args.config.schedule.split()
    # AWS Backup wants cron(min hour day month weekday year) with '?' in one of day/weekday.
    aws_cron = f"cron({minute} {hour} {day if weekday == '*' else '?'} {month} {'?' if weekday == '*' else weekday} *)"
    plan = aws.backup.Plan(
        f"{name}-plan", name=physical_name(args.app_name, "backups"),
        rules=[{"rule_name": "scheduled", "target_vault_name": vault.name, "schedule": aws_cron,
                "lifecycle": {"delete_after": args.config.retention_days}}],
        opts=child)
    role = aws.iam.Role(
        f"{name}-role", description=f"{args.app_name}: AWS Backup of the database and file system",
        assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        opts=child)
    aws.iam.RolePolicyAttachment(
        f"{name}-role-policy", role=role.name,
        policy_arn="arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        opts=pulumi.ResourceOptions(parent=role))
    # A selection is immutable: any change replaces it, under the same name.
    aws.backup.Selection(f"{name}-selection", name=physical_name(args.app_name, "data"), plan_id=plan.id,
                         iam_role_arn=role.arn, resources=targets,
                         opts=pulumi.ResourceOptions(parent=component, delete_before_replace=True))
