"""Redis as every target runs and reaches it: the official image's settings, and one URL per use,
each on its own DB index (profiles.REDIS_DB_INDEX)."""
from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import pulumi

from profiles import REDIS_DB_INDEX

PORT = 6379
REDIS_UID = 999  # the official image's redis user
DATA_DIR = "/data"
# The password reaches redis-server through this variable, never the command line of a manifest.
PASSWORD_ENV = "REDIS_PASSWORD"
# An append-only file on the data volume: locks, queues and worker IDs survive a restart. The cache
# shares the server with them, so a full memory must refuse writes, never evict a lock or a worker ID.
PERSISTENCE_FLAGS = ["--appendonly", "yes", "--dir", DATA_DIR, "--maxmemory-policy", "noeviction"]
PING_SHELL = f'REDISCLI_AUTH="${PASSWORD_ENV}" redis-cli -h 127.0.0.1 ping | grep -q PONG'


def _with_db(base: str, index: int) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{index}", parts.query, ""))


def server_url(password: pulumi.Input[str], host: pulumi.Input[str], scheme: str = "redis") -> pulumi.Output[str]:
    """The server's URL with its password and no DB index (urls_per_use adds one per use)."""
    return pulumi.Output.all(password, host).apply(lambda v: f"{scheme}://:{quote(v[0], safe='')}@{v[1]}:{PORT}")


def urls_per_use(base: pulumi.Input[str]) -> dict[str, pulumi.Output[str]]:
    """One URL per use (cache, pubsub, lock, queue, workerId), each on its own DB index; secret,
    since the base carries the password."""
    base = pulumi.Output.from_input(base)
    return {use: pulumi.Output.secret(base.apply(lambda u, i=i: _with_db(u, i))) for use, i in REDIS_DB_INDEX.items()}
