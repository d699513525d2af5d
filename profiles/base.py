"""What an application profile is: the facts appcluster must honour for one app.

A profile is data. Its environment is a mapping from variable name to either a literal or a
`Bind` naming a value the platform provides ("database.host", "redis.lock", "pod.name",
"secret.APP_KEY"). The platform (Kubernetes today) resolves the bindings, so every profile,
the generic one included, is wired by the same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from config.stack import StackConfig

# Snowflake IDs carry 5 bits of worker ID, 0-31, one per instance (every process of every role):
# no app cluster may run more instances than that.
MAX_INSTANCES = 32

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


EnvSpec = Mapping[str, str | Bind]


SecretKind = Literal["password", "hex32", "chars32", "provided"]


@dataclass(frozen=True)
class AppSecret:
    """A secret every instance must share, and the form the app reads it in:
    `password` 48 letters and digits; `hex32` 32 random bytes as 64 hex characters; `chars32`
    exactly 32 letters and digits (used as raw key bytes); `provided` never generated, only set
    in config (credentials of someone else's service)."""

    env: str
    kind: SecretKind = "password"


Version = tuple[int, int, int]


@dataclass(frozen=True)
class Release:
    """Facts that hold for the app's versions in [since, until): what we checked, and where."""

    since: Version
    until: Version
    secrets: tuple[AppSecret, ...]
    # project, path and version where the facts were read (or run: see tests/vendor).
    source: str
    # Why these versions cannot run as more than one instance, if they cannot (with the source).
    single_instance: str = ""

    def covers(self, version: Version) -> bool:
        return self.since <= version < self.until

    def describe(self) -> str:
        """1.9.x, 2.0–2.1.23, 2.1.24–2.2.x: minor versions with .x, a bound inside a minor by its patch."""
        first = ".".join(map(str, self.since if self.since[2] else self.since[:2]))
        if self.until[2]:
            last = f"{self.until[0]}.{self.until[1]}.{self.until[2] - 1}"
        else:
            last = f"{self.until[0]}.{self.until[1] - 1}.x" if self.until[1] else f"{self.until[0] - 1}.x"
        return last if first + ".x" == last else f"{first}–{last}"


def parse_version(tag: str) -> Version | None:
    """The release a tag names: 1.9.62, v0.9.0, 2.2.15-full, 1.9.0-p1 (a build on top of 1.9.0)."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", tag)
    return (int(match[1]), int(match[2]), int(match[3] or 0)) if match else None


@dataclass(frozen=True)
class OpenCheck:
    """An HTTP request that proves the app serves without counting against its per-client-IP rate
    limit, for an app whose health path sits behind that limit: it answers `status` without credentials."""

    path: str
    status: int


class Refused(ValueError):
    """A profile's own check failed: `key` (under appcluster:), the value, and what to do."""

    def __init__(self, key: str, value: object, message: str):
        super().__init__(message)
        self.key, self.value, self.message = key, value, message


@dataclass(frozen=True)
class Profile:
    name: str
    default_image: str
    health_path: str
    data_path: str
    # The versions whose facts we know, each with its secrets' formats; empty: any version, and the
    # secrets come from config (the generic profile).
    releases: tuple[Release, ...]
    env: Callable[[StackConfig], EnvSpec]
    default_port: Callable[[str], int]
    # The image's own start command, where its PID 1 would ignore SIGTERM: the container runs it under
    # components/shared/app.py's forward_term, so a stop reaches the server within the grace period.
    # Empty: the image's entrypoint handles signals itself.
    entrypoint: tuple[str, ...] = ()
    # Extra variables on the replica role only (New API: NODE_TYPE=slave).
    replica_env: Callable[[StackConfig], Mapping[str, str]] = lambda cfg: {}
    # None: the image needs root (it binds :80 or chowns its data dir); otherwise the uid to run as.
    run_as_user: int | None = None
    # Capabilities a root image needs back after dropping ALL.
    capabilities: tuple[str, ...] = ()
    # Upgrades: stop every other instance before the primary moves (no rolling across versions).
    stop_all_before_upgrade: bool = False
    # Variables the profile sets in some configuration (not always this one): app.env may not set them,
    # or it could, say, add CLUSTER_MODE processes that the 32-instance count never saw.
    reserved_env: frozenset[str] = frozenset()
    # Paths the app writes that must stay off the shared volume and bounded per pod (path -> size).
    local_paths: Mapping[str, str] = field(default_factory=dict)
    # Arguments to the image's entrypoint (which stays the image's own).
    args: tuple[str, ...] = ()
    # Set when the health path counts against the app's per-client-IP rate limit: kubelet probes and
    # load balancer checks come from a few addresses and would exhaust it, so they go by TCP or here.
    open_check: OpenCheck | None = None
    # Seconds a stopping instance keeps serving before it gets SIGTERM, for an app that exits at once on
    # it: until no load balancer sends it new requests and what it buffers in memory is written.
    drain_seconds: Callable[[StackConfig], int] = lambda cfg: 0
    # How long the load balancers let a request go without a byte either way (a long LLM call, a
    # WebSocket): a little over the app's own limit, so the app, not the load balancer, cuts first.
    idle_timeout_seconds: int = 60
    # Paths only the primary may answer (New API's first-run setup: replicas read its state once, at start).
    primary_only_paths: tuple[str, ...] = ()
    # Secrets wired only when the stack config sets them (credentials for the vendor's services).
    optional_secrets: tuple[AppSecret, ...] = ()
    # Several processes per instance (CLUSTER_MODE), each taking a worker ID.
    multi_process: bool = False
    # Instances that only run background tasks, outside the load balancer (WORKER_MODE).
    workers: bool = False
    # The per-app settings (app.* fields) it reads; config refuses one set for a profile that ignores it.
    settings: frozenset[str] = frozenset()
    # The database engines it runs on; sqlite only where a single instance may own the file.
    database_engines: frozenset[str] = frozenset({"postgres", "mysql"})
    # A second database for its logs (bound to logDatabase.dsn).
    log_database: bool = False
    # Uses Bloom filters (BF.*) where Redis offers them (redis 8+, redis-stack, valkey-bundle; ElastiCache
    # valkey 8.1+): what the app does without them, for a warning ("" if it uses none).
    redis_bloom_filters: str = ""
    # With more than one instance, each role gets a Service of its own so the load balancer can weight them.
    weighted_roles: bool = False
    # Image, port, health and data paths and shared secrets all come from stack config (app.generic).
    from_config: bool = False
    # The shared secrets when config names them (from_config); otherwise the release's, plus the
    # optional ones the stack sets.
    config_secrets: Callable[[StackConfig], tuple[AppSecret, ...]] | None = None
    # The profile's own checks of a stack, after the schema's: raise Refused(key, value, message).
    check: Callable[[StackConfig], None] = lambda cfg: None

    def secrets(self, cfg: StackConfig) -> tuple[AppSecret, ...]:
        if self.config_secrets is not None:
            return self.config_secrets(cfg)
        optional = tuple(s for s in self.optional_secrets if cfg.secrets.app_secret(s.env) is not None)
        # A profile without config_secrets states its releases; config refuses a version none covers.
        release = cfg.release
        assert release is not None, cfg.version
        return release.secrets + optional

    def release(self, version: Version | None) -> Release | None:
        return next((r for r in self.releases if version is not None and r.covers(version)), None)

    def known_versions(self) -> str:
        return ", ".join(r.describe() for r in self.releases)
