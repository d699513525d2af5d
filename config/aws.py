"""The AWS side: the VPC an existing EKS cluster runs in, and the managed services' settings."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from config.base import Model, matching


def _id(prefix: str) -> AfterValidator:
    pattern = re.compile(rf"^{prefix}-[0-9a-f]{{8}}([0-9a-f]{{9}})?$")

    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"must be an AWS id like {prefix}-0123456789abcdef0")
        return value

    return AfterValidator(check)


VpcId = Annotated[str, _id("vpc")]
SubnetId = Annotated[str, _id("subnet")]
SecurityGroupId = Annotated[str, _id("sg")]

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")


class AwsConfig(Model):
    region: str
    """The AWS region of the EKS cluster."""
    vpc_id: VpcId
    """The VPC of the EKS cluster."""
    # Private subnets of the EKS cluster, in at least two availability zones.
    private_subnet_ids: list[SubnetId]
    """Private subnets of the EKS cluster, in two or more availability zones (Multi-AZ services)."""
    # The security group of the EKS nodes (or of the app pods, with security groups for pods).
    node_security_group_id: SecurityGroupId
    """The security group of the EKS nodes (or of the app pods, with security groups for pods)."""

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError("must be an AWS region such as eu-west-1")
        return value

    @field_validator("private_subnet_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(value) < 2:
            raise ValueError("needs two or more private subnets in different availability zones (Multi-AZ services)")
        if len(set(value)) != len(value):
            raise ValueError("lists a subnet twice: give two or more different subnets, one per availability zone")
        return value


# S3's bucket naming rule (3-63 characters); the backup target and the ALB's access logs use it.
S3Bucket = Annotated[
    str,
    matching(
        r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        "must be an S3 bucket name: 3-63 lower-case letters, digits, "
        "'.' and '-', starting and ending with a letter or digit",
    ),
]
MajorMinor = Annotated[str, matching(r"\d+\.\d+", "must be a major.minor version, e.g. 8.1")]
Version = Annotated[str, matching(r"\d+(\.\d+)*", "must be a version number, e.g. 17.4")]
NodeType = Annotated[
    str, matching(r"cache\.[a-z0-9]+\.[a-z0-9]+", "must be an ElastiCache node type, e.g. cache.r7g.large")
]
InstanceClass = Annotated[
    str, matching(r"db\.[a-z0-9]+\.[a-z0-9]+", "must be an RDS instance class, e.g. db.r7g.large")
]
BelowRoot = Annotated[
    str,
    matching(
        r"/[^/].*",
        "must be an absolute path below '/', e.g. /appcluster (the root itself would hand "
        "every client the whole file system)",
    ),
]


class ElastiCacheConfig(Model):
    # valkey 8.1+ ships the Bloom filter module (NocoBase's token blacklist; without it a warning, config/stack.py);
    # the redis engine stops at 7.x.
    engine: Literal["valkey", "redis"] = "valkey"
    """valkey (8.1+ ships the Bloom filters NocoBase uses) or redis (stops at 7.x)."""
    engine_version: MajorMinor = "8.1"
    """The engine's major.minor version."""
    node_type: NodeType = "cache.r7g.large"
    """The cache node type."""
    num_cache_clusters: int = Field(2, ge=2, le=6)
    """Nodes in the replication group; two or more for automatic failover."""
    snapshot_retention_days: int = Field(7, ge=1, le=35)
    """How many days daily snapshots are kept."""


class RdsConfig(Model):
    engine_version: Version | None = None
    """The engine version; unset lets RDS choose its default."""
    instance_class: InstanceClass = "db.r7g.large"
    """The RDS instance class."""
    allocated_storage_gb: int = Field(100, ge=20, le=65536)
    """Storage allocated at creation, in GB."""
    max_allocated_storage_gb: int = Field(500, ge=20, le=65536)
    """Storage autoscaling's ceiling, in GB."""
    multi_az: bool = True
    """A standby in a second availability zone."""
    backup_retention_days: int = Field(14, ge=7, le=35)
    """How many days automated backups are kept (at least 7)."""

    @model_validator(mode="after")
    def _autoscaling_above_allocation(self) -> RdsConfig:
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise ValueError(
                f"maxAllocatedStorageGb ({self.max_allocated_storage_gb}) is below allocatedStorageGb "
                f"({self.allocated_storage_gb}): storage autoscaling needs a ceiling above the allocation"
            )
        return self


class EfsConfig(Model):
    uid: int = Field(1000, ge=0)
    """The POSIX user the access point writes as."""
    gid: int = Field(1000, ge=0)
    """The POSIX group the access point writes as."""
    root_directory: BelowRoot = "/appcluster"
    """The access point's own directory (never the file system's root)."""
    throughput_mode: Literal["elastic", "bursting"] = "elastic"
    """The file system's throughput mode."""


def check_certificate_arn(value: str | None) -> str | None:
    if value is not None and not _ACM_ARN.match(value):
        raise ValueError("must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>")
    return value


LoadBalancerMode = Literal["service", "nlb", "alb"]
