"""Backups variant dump: a CronJob and, per upgrade, a Job that dump an in-cluster database
(pg_dump/mysqldump, with the server image's own client) into the shared storage, under
.appcluster-backups/, or into an S3 bucket when the plan names one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.backups.contract import COMPONENT, BackupGate, BackupPlan
from components.kubernetes import conventions as conv
from components.shared import args as check

BACKUP_DIR = ".appcluster-backups"
AWS_CLI_IMAGE = "amazon/aws-cli:2.22.35"
# How long a pre-upgrade dump may run; Pulumi waits that long (its own default is 10 minutes).
DUMP_DEADLINE_SECONDS = 3600


def dump_command(engine: str, label: str, retention_days: int | None = None) -> str:
    target = f"/backups/{label}-$(date +%Y%m%dT%H%M%S)"
    if engine == "postgres":
        dump = f'PGPASSWORD="$DB_PASSWORD" pg_dump -h "$DB_HOST" -U "$DB_USER" -d "$DB_NAME" -Fc -f {target}.dump'
    else:
        # --no-tablespaces: since MySQL 8.0.21 reading tablespaces (INFORMATION_SCHEMA.FILES) needs the
        # global PROCESS privilege, which the app's user lacks, and mysqldump then exits 2 (MySQL 8.0.21
        # release notes; not reproducible with MariaDB here, whose mysqldump takes the flag too).
        dump = (
            f'MYSQL_PWD="$DB_PASSWORD" mysqldump -h "$DB_HOST" -u "$DB_USER" --single-transaction '
            f'--no-tablespaces --routines "$DB_NAME" > {target}.sql'
        )
    prune = f" && find /backups -type f -mtime +{retention_days} -delete" if retention_days else ""
    return f"set -eu; {dump}{prune}"


def restore_command(engine: str, dump: str) -> str:
    """How a dump goes back into a fresh server (README, Operations): run in the database's pod, whose
    image has the client and whose env names the user and the database."""
    if engine == "postgres":
        return f'pg_restore --no-owner --exit-on-error -U "$POSTGRES_USER" -d "$POSTGRES_DB" {dump}'
    return f'MYSQL_PWD="$MYSQL_PASSWORD" mysql -u "$MYSQL_USER" "$MYSQL_DATABASE" < {dump}'


@dataclass(frozen=True, kw_only=True)
class DumpBackups:
    """An in-cluster database to dump."""

    kind: Literal["dump"] = "dump"
    namespace: pulumi.Input[str]
    engine: Literal["postgres", "mysql"]
    image: str  # the database server's image: its client dumps
    host: pulumi.Input[str]
    name: str
    user: str
    secret_name: pulumi.Input[str]
    password_key: str
    storage_claim: pulumi.Input[str]
    # Write as the app does (its uid owns the shared storage); None for images that run as root.
    run_as_user: int | None = None

    def __post_init__(self) -> None:
        check.one_of(self, "engine", ("postgres", "mysql"))

    def declare(
        self, parent: pulumi.Resource, name: str, *, app_name: str, plan: BackupPlan, version: str
    ) -> BackupGate:
        s3, slug = plan.s3, conv.version_slug(version)
        labels = conv.labels(app_name, COMPONENT)
        account = None
        if s3 is not None:
            account = k8s.core.v1.ServiceAccount(
                f"{name}-account",
                metadata={
                    "name": f"{app_name}-backup",
                    "namespace": self.namespace,
                    "labels": labels,
                    "annotations": {"eks.amazonaws.com/role-arn": s3.role_arn},
                },
                automount_service_account_token=False,
                opts=pulumi.ResourceOptions(parent=parent),
            ).metadata.name

        def pod(command: str) -> dict[str, Any]:
            dumper = {
                "name": "dump",
                "image": self.image,
                "command": ["sh", "-c", command],
                "env": [
                    {"name": "DB_HOST", "value": self.host},
                    {"name": "DB_NAME", "value": self.name},
                    {"name": "DB_USER", "value": self.user},
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": self.secret_name, "key": self.password_key}},
                    },
                ],
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
                "securityContext": conv.container_security_context(self.run_as_user, read_only_root=True),
                "volumeMounts": [
                    {"name": "backups", "mountPath": "/backups", **({} if s3 else {"subPath": BACKUP_DIR})}
                ],
            }
            spec: dict[str, Any] = {
                "restartPolicy": "OnFailure",
                "automountServiceAccountToken": False,
                "securityContext": conv.pod_security_context(self.run_as_user),
                "containers": [dumper],
                "volumes": [{"name": "backups", "persistentVolumeClaim": {"claimName": self.storage_claim}}],
            }
            if s3 is not None:
                # Dump to scratch space first, then upload it: the bucket keeps it, nothing stays in the pod.
                spec.update(
                    serviceAccountName=account,
                    initContainers=[dumper],
                    volumes=[{"name": "backups", "emptyDir": {}}, {"name": "home", "emptyDir": {}}],
                    containers=[
                        {
                            "name": "upload",
                            "image": AWS_CLI_IMAGE,
                            "command": [
                                "aws",
                                "s3",
                                "cp",
                                "/backups/",
                                f"s3://{s3.bucket}/{s3.prefix}/{app_name}/",
                                "--recursive",
                                "--sse",
                                "AES256",
                            ],
                            "env": [{"name": "HOME", "value": "/home/aws"}],
                            "resources": dumper["resources"],
                            "securityContext": conv.container_security_context(self.run_as_user, read_only_root=True),
                            "volumeMounts": [
                                {"name": "backups", "mountPath": "/backups", "readOnly": True},
                                {"name": "home", "mountPath": "/home/aws"},
                            ],
                        }
                    ],
                )
            return {"metadata": {"labels": labels}, "spec": spec}

        k8s.batch.v1.CronJob(
            f"{name}-scheduled",
            metadata={"name": f"{app_name}-backup", "namespace": self.namespace, "labels": labels},
            spec={
                "schedule": plan.schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 2,
                        "template": pod(dump_command(self.engine, "scheduled", None if s3 else plan.retention_days)),
                    }
                },
            },
            opts=pulumi.ResourceOptions(parent=parent),
        )
        if not plan.before_upgrade:
            return BackupGate()
        # A new name per version: the Job runs once when the version changes, and the provider
        # waits for it to succeed before anything that depends on it.
        return BackupGate(
            (
                k8s.batch.v1.Job(
                    f"{name}-before-{slug}",
                    metadata={
                        "name": f"{app_name}-backup-before-{slug}",
                        "namespace": self.namespace,
                        "labels": labels,
                    },
                    spec={
                        "backoffLimit": 2,
                        "activeDeadlineSeconds": DUMP_DEADLINE_SECONDS,
                        "template": pod(dump_command(self.engine, f"before-{slug}")),
                    },
                    opts=pulumi.ResourceOptions(
                        parent=parent,
                        custom_timeouts=pulumi.CustomTimeouts(
                            create=f"{DUMP_DEADLINE_SECONDS + 60}s", update=f"{DUMP_DEADLINE_SECONDS + 60}s"
                        ),
                    ),
                ),
            )
        )
