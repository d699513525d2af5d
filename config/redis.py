"""Redis: cache, pub/sub, locks, queue and worker IDs, one DB index each."""

from __future__ import annotations

from typing import Literal

from config.aws import ElastiCacheConfig
from config.base import ByteSize, Image, Model, Resources


class RedisConfig(Model):
    # in-cluster: a StatefulSet here; elasticache: an AWS replication group; external: `secrets.redisUrl`.
    mode: Literal["in-cluster", "elasticache", "external"] = "in-cluster"
    """in-cluster: a StatefulSet here; elasticache: an AWS replication group; external: `secrets.redisUrl`."""
    image: Image = "redis:8.2.2"
    """The in-cluster Redis image, pinned; NocoBase uses Bloom filters from Redis 8 or redis-stack (on another, a warning says what it costs)."""
    storage_size: ByteSize = "8Gi"
    """The in-cluster Redis volume's size (AOF persistence)."""
    storage_class: str | None = None
    """The in-cluster Redis volume's storage class; unset uses the cluster's default."""
    resources: Resources = Resources(cpu_request="100m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi")
    """CPU and memory of the in-cluster Redis container."""
    elasticache: ElastiCacheConfig = ElastiCacheConfig()
    """The replication group of mode elasticache."""
