"""What an application profile is: the facts appcluster must honour for one app.

A profile is data. Its environment is a mapping from variable name to either a literal or a
`Bind` naming a value the platform provides ("database.host", "redis.lock", "pod.name",
"secret.APP_KEY"). The platform (Kubernetes today) resolves the bindings, so every profile,
the generic one included, is wired by the same code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal, Mapping, Union

if TYPE_CHECKING:
    from config.stack import StackConfig

# One Redis DB index per use, so cache keys, pub/sub channels, locks, queues and worker IDs never collide.
REDIS_DB_INDEX: Mapping[str, int] = {"cache": 0, "pubsub": 1, "lock": 2, "queue": 3, "workerId": 4}

DATABASE_BINDINGS = ("dialect", "host", "port", "name", "user", "password", "url", "dsn")
PLATFORM_BINDINGS = frozenset(
    [f"database.{b}" for b in DATABASE_BINDINGS]
    + [f"redis.{use}" for use in REDIS_DB_INDEX]
    + ["pod.name", "logDatabase.dsn"]
)


@dataclass(frozen=True)
class Bind:
    """A value the platform provides, by name; `secret.<ENV>` names a shared app secret."""

    source: str


EnvSpec = Mapping[str, Union[str, Bind]]


@dataclass(frozen=True)
class AppSecret:
    """A secret every instance must share. `hex32` is 32 random bytes as 64 hex characters."""

    env: str
    kind: Literal["password", "hex32"] = "password"


@dataclass(frozen=True)
class Profile:
    name: str
    default_image: str
    health_path: str
    data_path: str
    secrets: tuple[AppSecret, ...]
    env: Callable[["StackConfig"], EnvSpec]
    default_port: Callable[[str], int]
    # Extra variables on the replica role only (New API: NODE_TYPE=slave).
    replica_env: Mapping[str, str] = field(default_factory=dict)
    # None: the image needs root (it binds :80 or chowns its data dir); otherwise the uid to run as.
    run_as_user: int | None = None
    # Capabilities a root image needs back after dropping ALL.
    capabilities: tuple[str, ...] = ()
    # Upgrades: stop every other instance before the primary moves (no rolling across versions).
    stop_all_before_upgrade: bool = False
