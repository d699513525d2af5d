"""Redis: one server for cache, pub/sub, locks, queue and worker IDs, one DB index per use.

Variants (one module each, loaded only by the stack that picks it): in_cluster (a StatefulSet on a
PVC behind a ClusterIP Service), elasticache (an ElastiCache replication group), external (an
existing server whose URL comes from a config secret), container (a Docker container on a named
volume). Each returns a RedisEndpoint (contract.py); the Redis component (component.py) exposes it.
"""
