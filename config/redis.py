"""Redis: cache, pub/sub, locks, queue and worker IDs, one DB index each."""
from __future__ import annotations

from typing import Literal, Optional

from config.aws import ElastiCacheConfig
from config.base import ByteSize, Image, Model, Resources


class RedisConfig(Model):
    # in-cluster: a StatefulSet here; elasticache: an AWS replication group; external: `secrets.redisUrl`.
    mode: Literal["in-cluster", "elasticache", "external"] = "in-cluster"
    image: Image = "redis:8.2.2"
    storage_size: ByteSize = "8Gi"
    storage_class: Optional[str] = None
    resources: Resources = Resources(cpu_request="100m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi")
    elasticache: ElastiCacheConfig = ElastiCacheConfig()
