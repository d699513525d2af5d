"""Redis variant elasticache: an ElastiCache replication group (cluster mode disabled, since DB
indexes are used; Multi-AZ with failover, encrypted at rest and in transit, AUTH token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import pulumi
import pulumi_aws as aws

from components.aws.network import Network, physical_name, service_security_group
from components.redis.contract import PORT, RedisEndpoint, endpoint


class CacheSettings(Protocol):
    """What the replication group reads (the stack config's redis.elasticache has this shape)."""

    @property
    def engine(self) -> str: ...  # valkey or redis

    @property
    def engine_version(self) -> str: ...  # major.minor

    @property
    def node_type(self) -> str: ...

    @property
    def num_cache_clusters(self) -> int: ...  # 2 or more: failover needs a replica

    @property
    def snapshot_retention_days(self) -> int: ...


@dataclass(frozen=True, kw_only=True)
class ElastiCacheRedis:
    kind: Literal["elasticache"] = "elasticache"
    settings: CacheSettings  # engine, version, nodes, snapshots
    network: Network  # the EKS cluster's VPC, subnets and node security group
    password: pulumi.Input[str]  # the AUTH token (a Pulumi secret)

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> RedisEndpoint:
        cache, network = self.settings, self.network
        child = pulumi.ResourceOptions(parent=parent)
        group_id = physical_name(app_name, "redis")
        security_group = service_security_group(parent, name, network=network, service="redis", port=PORT)
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            name=group_id,
            subnet_ids=list(network.subnet_ids),
            description=f"{app_name} Redis: the EKS cluster's private subnets",
            opts=child,
        )
        family = f"{cache.engine}{cache.engine_version.split('.')[0]}"
        parameters = aws.elasticache.ParameterGroup(
            f"{name}-parameters",
            name=f"{group_id}-{family}",
            family=family,
            description=f"{app_name} Redis: never evict (locks, queues and worker IDs live here)",
            parameters=[{"name": "maxmemory-policy", "value": "noeviction"}],
            opts=child,
        )
        group = aws.elasticache.ReplicationGroup(
            f"{name}-replication-group",
            replication_group_id=group_id,
            description=f"{app_name}: cache, pub/sub, locks, queue and worker IDs",
            engine=cache.engine,
            engine_version=cache.engine_version,
            node_type=cache.node_type,
            num_cache_clusters=cache.num_cache_clusters,
            port=PORT,
            cluster_mode="disabled",  # DB indexes 0..4 exist only with cluster mode off
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            auth_token=pulumi.Output.secret(self.password),
            subnet_group_name=subnets.name,
            security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            snapshot_retention_limit=cache.snapshot_retention_days,
            final_snapshot_identifier=f"{group_id}-final",
            auto_minor_version_upgrade=True,
            opts=pulumi.ResourceOptions(parent=parent, protect=protect, delete_before_replace=True),
        )
        return endpoint(group.primary_endpoint_address, self.password, tls=True)
