"""What every Redis variant returns (RedisEndpoint) and the official image's settings they share:
one URL per use, each on its own DB index (profiles.REDIS_DB_INDEX)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

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


@dataclass(frozen=True, kw_only=True)
class RedisEndpoint:
    """How clients reach the server. `base` is its URL with the password and no DB index (secret)."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    tls: pulumi.Output[bool]  # rediss: clients must speak TLS
    password: pulumi.Output[str]  # secret
    base: pulumi.Output[str]  # secret

    @property
    def urls(self) -> dict[str, pulumi.Output[str]]:
        """One URL per use (cache, pubsub, lock, queue, workerId), each on its own DB index; secret,
        since each carries the password."""

        def on_db(index: int) -> pulumi.Output[str]:
            return pulumi.Output.secret(self.base.apply(lambda url: _with_db(url, index)))

        return {use: on_db(index) for use, index in REDIS_DB_INDEX.items()}


def endpoint(host: pulumi.Input[str], password: pulumi.Input[str], *, tls: bool, port: int = PORT) -> RedisEndpoint:
    """The endpoint of a server the variant declared (or was told) at `host`:`port`."""
    scheme = "rediss" if tls else "redis"
    host_out = pulumi.Output.from_input(host)
    secret = pulumi.Output.secret(password)
    base = pulumi.Output.all(secret, host_out).apply(lambda v: f"{scheme}://:{quote(str(v[0]), safe='')}@{v[1]}:{port}")
    return RedisEndpoint(
        host=host_out,
        port=pulumi.Output.from_input(port),
        tls=pulumi.Output.from_input(tls),
        password=secret,
        base=pulumi.Output.secret(base),
    )


def from_url(url: pulumi.Input[str]) -> RedisEndpoint:
    """The endpoint of an existing server named by its URL (credentials included)."""
    base = pulumi.Output.secret(url)
    parts = base.apply(urlsplit)
    return RedisEndpoint(
        host=parts.apply(lambda p: p.hostname or ""),
        port=parts.apply(lambda p: p.port or PORT),
        tls=parts.apply(lambda p: p.scheme == "rediss"),
        password=pulumi.Output.secret(parts.apply(lambda p: unquote(p.password or ""))),
        base=base,
    )
