"""Backups: scheduled ones, and one taken before the primary moves to a new version.

in-cluster database: a CronJob and, per upgrade, a Job that dump the database (pg_dump/mysqldump,
with the server image's own client) into the shared storage, under .appcluster-backups/, or into
an S3 bucket when configured.
rds / efs: an AWS Backup plan for the instance and the file system and, per upgrade, an RDS
snapshot named after the target version (components/aws/backups.py, loaded only for those modes).
An external database is its owner's to back up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Optional, Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv
from components.shared import args as check

BACKUP_DIR = ".appcluster-backups"
# The component label of the dump pods (the database's NetworkPolicy admits it).
COMPONENT = "backup"
AWS_CLI_IMAGE = "amazon/aws-cli:2.22.35"
# How long a pre-upgrade dump may run; Pulumi waits that long (its own default is 10 minutes).
DUMP_DEADLINE_SECONDS = 3600


class S3Upload(Protocol):
    """Where dumps go instead of the shared storage: the Job's ServiceAccount assumes role_arn (IRSA)."""

    bucket: str
    prefix: str
    role_arn: str


class BackupPlan(Protocol):
    """What the backups read (the stack config's `backup` has this shape)."""

    schedule: str  # 5-field cron, UTC
    retention_days: int
    before_upgrade: bool  # a dump Job / RDS snapshot before the primary moves to a new version
    s3: Optional[S3Upload]


@dataclass(frozen=True, kw_only=True)
class DumpTarget:
    """An in-cluster database to dump."""

    engine: Literal["postgres", "mysql"]
    image: str
    host: pulumi.Input[str]
    name: str
    user: str
    secret_name: pulumi.Input[str]
    password_key: str
    storage_claim: pulumi.Input[str]
    # Write as the app does (its uid owns the shared storage); None for images that run as root.
    run_as_user: Optional[int] = None


@dataclass(frozen=True, kw_only=True)
class BackupsArgs:
    app_name: str
    namespace: pulumi.Input[str]
    config: BackupPlan  # schedule, retention, pre-upgrade backups, S3
    # The version the primary is about to run; names the pre-upgrade backup.
    version: str
    dump: Optional[DumpTarget] = None
    # AWS resources to back up (an aws.rds.Instance, an aws.efs.FileSystem): components/aws/backups.py.
    rds_instance: Optional[Any] = None
    efs_file_system: Optional[Any] = None

    def __post_init__(self) -> None:
        check.require(self, bool(self.version), "version", "names the pre-upgrade backup: it must not be empty")
        if self.dump is not None:
            check.one_of(self.dump, "engine", ("postgres", "mysql"))


def dump_command(engine: str, label: str, retention_days: Optional[int] = None) -> str:
    target = f"/backups/{label}-$(date +%Y%m%dT%H%M%S)"
    if engine == "postgres":
        dump = f'PGPASSWORD="$DB_PASSWORD" pg_dump -h "$DB_HOST" -U "$DB_USER" -d "$DB_NAME" -Fc -f {target}.dump'
    else:
        # --no-tablespaces: since MySQL 8.0.21 reading tablespaces (INFORMATION_SCHEMA.FILES) needs the
        # global PROCESS privilege, which the app's user lacks, and mysqldump then exits 2 (MySQL 8.0.21
        # release notes; not reproducible with MariaDB here, whose mysqldump takes the flag too).
        dump = (f'MYSQL_PWD="$DB_PASSWORD" mysqldump -h "$DB_HOST" -u "$DB_USER" --single-transaction '
                f'--no-tablespaces --routines "$DB_NAME" > {target}.sql')
    prune = f" && find /backups -type f -mtime +{retention_days} -delete" if retention_days else ""
    return f"set -eu; {dump}{prune}"


def restore_command(engine: str, dump: str) -> str:
    """How a dump goes back into a fresh server (README, Operations): run in the database's pod, whose
    image has the client and whose env names the user and the database."""
    if engine == "postgres":
        return f'pg_restore --no-owner --exit-on-error -U "$POSTGRES_USER" -d "$POSTGRES_DB" {dump}'
    return f'MYSQL_PWD="$MYSQL_PASSWORD" mysql -u "$MYSQL_USER" "$MYSQL_DATABASE" < {dump}'


class Backups(pulumi.ComponentResource):
    # What must finish before the primary may move to the new version.
    before_upgrade: list[pulumi.Resource]

    def __init__(self, name: str, args: BackupsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:Backups", name, None, opts)
        self.before_upgrade = []
        slug = conv.version_slug(args.version)
        if args.dump is not None:
            self._dumps(name, args, slug)
        aws_targets = [r.arn for r in (args.rds_instance, args.efs_file_system) if r is not None]
        if aws_targets:
            from components.aws import backups as aws_backups

            if args.rds_instance is not None and args.config.before_upgrade:
                self.before_upgrade.append(aws_backups.snapshot_before_upgrade(self, name, args, slug))
            aws_backups.plan(self, name, args, aws_targets)
        self.register_outputs({})

    def _dumps(self, name: str, args: BackupsArgs, slug: str) -> None:
        dump, s3 = args.dump, args.config.s3
        labels = conv.labels(args.app_name, COMPONENT)
        account = None
        if s3 is not None:
            account = k8s.core.v1.ServiceAccount(
                f"{name}-account",
                metadata={"name": f"{args.app_name}-backup", "namespace": args.namespace, "labels": labels,
                          "annotations": {"eks.amazonaws.com/role-arn": s3.role_arn}},
                automount_service_account_token=False, opts=pulumi.ResourceOptions(parent=self)).metadata.name

        def pod(command: str) -> dict:
            dumper = {
                "name": "dump",
                "image": dump.image,
                "command": ["sh", "-c", command],
                "env": [
                    {"name": "DB_HOST", "value": dump.host},
                    {"name": "DB_NAME", "value": dump.name},
                    {"name": "DB_USER", "value": dump.user},
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
                        "name": dump.secret_name, "key": dump.password_key}}},
                ],
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
                "securityContext": conv.container_security_context(dump.run_as_user, read_only_root=True),
                "volumeMounts": [{"name": "backups", "mountPath": "/backups",
                                  **({} if s3 else {"subPath": BACKUP_DIR})}],
            }
            spec: dict = {
                "restartPolicy": "OnFailure",
                "automountServiceAccountToken": False,
                "securityContext": conv.pod_security_context(dump.run_as_user),
                "containers": [dumper],
                "volumes": [{"name": "backups", "persistentVolumeClaim": {"claimName": dump.storage_claim}}],
            }
            if s3 is not None:
                # Dump to scratch space first, then upload it: the bucket keeps it, nothing stays in the pod.
                spec.update(
                    serviceAccountName=account,
                    initContainers=[dumper],
                    volumes=[{"name": "backups", "emptyDir": {}}, {"name": "home", "emptyDir": {}}],
                    containers=[{
                        "name": "upload",
                        "image": AWS_CLI_IMAGE,
                        "command": ["aws", "s3", "cp", "/backups/", f"s3://{s3.bucket}/{s3.prefix}/{args.app_name}/",
                                    "--recursive", "--sse", "AES256"],
                        "env": [{"name": "HOME", "value": "/home/aws"}],
                        "resources": dumper["resources"],
                        "securityContext": conv.container_security_context(dump.run_as_user, read_only_root=True),
                        "volumeMounts": [{"name": "backups", "mountPath": "/backups", "readOnly": True},
                                         {"name": "home", "mountPath": "/home/aws"}],
                    }])
            return {"metadata": {"labels": labels}, "spec": spec}

        k8s.batch.v1.CronJob(
            f"{name}-scheduled",
            metadata={"name": f"{args.app_name}-backup", "namespace": args.namespace, "labels": labels},
            spec={
                "schedule": args.config.schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"spec": {"backoffLimit": 2, "template": pod(
                    dump_command(dump.engine, "scheduled", None if s3 else args.config.retention_days))}},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.config.before_upgrade:
            # A new name per version: the Job runs once when the version changes, and the provider
            # waits for it to succeed before anything that depends on it.
            self.before_upgrade.append(k8s.batch.v1.Job(
                f"{name}-before-{slug}",
                metadata={"name": f"{args.app_name}-backup-before-{slug}", "namespace": args.namespace, "labels": labels},
                spec={"backoffLimit": 2, "activeDeadlineSeconds": DUMP_DEADLINE_SECONDS,
                      "template": pod(dump_command(dump.engine, f"before-{slug}"))},
                opts=pulumi.ResourceOptions(parent=self, custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{DUMP_DEADLINE_SECONDS + 60}s", update=f"{DUMP_DEADLINE_SECONDS + 60}s")),
            ))
