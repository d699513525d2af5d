"""Redis mode elasticache: an ElastiCache replication group (cluster mode disabled, since DB indexes
are used; Multi-AZ with failover, encrypted at rest and in transit, AUTH token), declared under the
Redis component that chose the mode."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pulumi
import pulumi_aws as aws

from components.aws.network import physical_name, service_security_group
from components.shared.redis import PORT, server_url

if TYPE_CHECKING:
    from components.kubernetes.redis import Redis, RedisArgs


class CacheSettings(Protocol):
    """What the replication group reads (the stack config's redis.elasticache has this shape)."""

    engine: str  # valkey or redis
    engine_version: str  # major.minor
    node_type: str
    num_cache_clusters: int  # 2 or more: failover needs a replica
    snapshot_retention_days: int


def elasticache(component: Redis, name: str, args: RedisArgs) -> pulumi.Output[str]:
    """The replication group and its groups, children of `component`; returns the server's URL."""
    cache, network = args.elasticache, args.network
    child = pulumi.ResourceOptions(parent=component)
    group_id = physical_name(args.app_name, "redis")
    security_group = service_security_group(component, name, network=network, service="redis", port=PORT)
    subnets = aws.elasticache.SubnetGroup(
        f"{name}-subnets", name=group_id, subnet_ids=list(network.subnet_ids),
        description=f"{args.app_name} Redis: the EKS cluster's private subnets", opts=child)
    family = f"{cache.engine}{cache.engine_version.split('.')[0]}"
    parameters = aws.elasticache.ParameterGroup(
        f"{name}-parameters", name=f"{group_id}-{family}", family=family,
        description=f"{args.app_name} Redis: never evict (locks, queues and worker IDs live here)",
        parameters=[{"name": "maxmemory-policy", "value": "noeviction"}], opts=child)
    group = aws.elasticache.ReplicationGroup(
        f"{name}-replication-group",
        replication_group_id=group_id,
        description=f"{args.app_name}: cache, pub/sub, locks, queue and worker IDs",
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
        auth_token=pulumi.Output.secret(args.password),
        subnet_group_name=subnets.name,
        security_group_ids=[security_group.id],
        parameter_group_name=parameters.name,
        snapshot_retention_limit=cache.snapshot_retention_days,
        final_snapshot_identifier=f"{group_id}-final",
        auto_minor_version_upgrade=True,
        opts=pulumi.ResourceOptions(parent=component, protect=args.protect, delete_before_replace=True),
    )
    component.host = group.primary_endpoint_address
    component.port = pulumi.Output.from_input(PORT)
    return server_url(args.password, component.host, scheme="rediss")
