"""NocoBase in cluster mode (v1.6+): every node identical, Redis for every adapter, shared storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from profiles.base import AppSecret, Bind, EnvSpec, Profile, Refused, Release

if TYPE_CHECKING:
    from config.stack import StackConfig

# The commercial adapter plugins that make cluster mode correct; enabled at first start. The stock
# image lacks them and APPEND_PRESET_BUILT_IN_PLUGINS silently skips a name it cannot find, after
# which LOCK_ADAPTER_DEFAULT=redis throws `Lock adapter "redis" not registered` (docs: cluster-mode).
CLUSTER_PLUGINS = ("pubsub-adapter-redis", "lock-adapter-redis", "queue-adapter-redis", "workerid-allocator-redis")
# The commercial plugin platform's credentials: the image downloads licensed plugins with them.
PKG_USERNAME, PKG_PASSWORD = "NOCOBASE_PKG_USERNAME", "NOCOBASE_PKG_PASSWORD"
# The first release whose image holds the app extracted instead of untarring it at every start.
UNPACKED_IN_IMAGE = (2, 1, 0)
# The root account NocoBase creates on install: INIT_ROOT_EMAIL / INIT_ROOT_PASSWORD, else the vendor's
# admin@nocobase.com / admin123, the same for every install (@nocobase/plugin-users 2.2.15
# dist/server/server.js getInstallingData). Read on install only: an installed app keeps its password.
ROOT_PASSWORD = AppSecret("INIT_ROOT_PASSWORD")


# Up to 2.1.23 the cache takes `REDIS_URL || CACHE_REDIS_URL` (nocobase/nocobase packages/core/app/src/
# config/cache.ts v1.9.62, v2.0.0, v2.1.23), and REDIS_URL is the worker-ID allocator's connection
# (config/index.ts redisConfig, same tags): the cache lands in the allocator's DB and "clear cache"
# flushes the worker IDs that keep instances apart. Nothing but REDIS_URL configures the allocator.
_CACHE_ON_REDIS_URL = (
    "puts its cache on REDIS_URL, the worker-ID allocator's Redis DB (cache.ts reads REDIS_URL "
    "before CACHE_REDIS_URL), so clearing the cache frees every instance's worker ID"
)


def _port(image: str) -> int:
    # The plain and -full images front Node with nginx on :80; the -no-nginx ones expose Node on :13000.
    return 13000 if "no-nginx" in image.rsplit(":", 1)[-1] else 80


def has_cluster_plugins(cfg: StackConfig) -> bool:
    """Whether the adapter plugins will be there: bundled in the image, or downloaded with credentials."""
    return cfg.app.cluster_plugins_in_image or cfg.secrets.app_secret(PKG_PASSWORD) is not None


def _env(cfg: StackConfig) -> EnvSpec:
    env: dict[str, str | Bind] = {
        "APP_ENV": "production",
        "TZ": cfg.app.timezone,
        "APP_KEY": Bind("secret.APP_KEY"),
        "APP_AES_SECRET_KEY": Bind("secret.APP_AES_SECRET_KEY"),
        "INIT_ROOT_EMAIL": cfg.app.root_email,
        "INIT_ROOT_PASSWORD": Bind(f"secret.{ROOT_PASSWORD.env}"),
        "DB_DIALECT": Bind("database.dialect"),
        "DB_HOST": Bind("database.host"),
        "DB_PORT": Bind("database.port"),
        "DB_DATABASE": Bind("database.name"),
        "DB_USER": Bind("database.user"),
        "DB_PASSWORD": Bind("database.password"),
        # The cache's Redis store is built in (@nocobase/app lib/config/cache.js 2.2.15: CACHE_REDIS_URL
        # first, REDIS_URL as fallback, from 2.1.24; before, see _CACHE_ON_REDIS_URL), so it needs no plugin.
        "CACHE_DEFAULT_STORE": "redis",
        "CACHE_REDIS_URL": Bind("redis.cache"),
    }
    if has_cluster_plugins(cfg):
        # Name an adapter only where its plugin will be loaded.
        env.update(
            {
                "PUBSUB_ADAPTER_REDIS_URL": Bind("redis.pubsub"),
                "LOCK_ADAPTER_DEFAULT": "redis",
                "LOCK_ADAPTER_REDIS_URL": Bind("redis.lock"),
                "QUEUE_ADAPTER": "redis",
                "QUEUE_ADAPTER_REDIS_URL": Bind("redis.queue"),
                # The worker-ID allocator's connection (@nocobase/app lib/config/index.js 2.2.15: redisConfig).
                "REDIS_URL": Bind("redis.workerId"),
                "APPEND_PRESET_BUILT_IN_PLUGINS": ",".join(
                    cfg.app.plugins if cfg.app.plugins is not None else CLUSTER_PLUGINS
                ),
            }
        )
    if cfg.secrets.app_secret(PKG_PASSWORD) is not None:
        env[PKG_USERNAME] = Bind(f"secret.{PKG_USERNAME}")
        env[PKG_PASSWORD] = Bind(f"secret.{PKG_PASSWORD}")
    if cfg.database.mode == "rds":
        # The RDS Proxy refuses clear text; this turns the driver's TLS on (the proxy's ACM
        # certificate is publicly trusted, so verification stays on).
        env["DB_DIALECT_OPTIONS_SSL_REJECT_UNAUTHORIZED"] = "true"
    # On Kubernetes one pod is one instance; PM2 processes each take one of the 32 worker IDs.
    if cfg.app.processes_per_instance > 1:
        env["CLUSTER_MODE"] = str(cfg.app.processes_per_instance)
    return env


def _check(cfg: StackConfig) -> None:
    """More than one instance needs the Redis adapter plugins; the plugin account is a pair."""
    if cfg.max_instances > 1 and not has_cluster_plugins(cfg):
        raise Refused(
            "app.replicas",
            cfg.app.replicas,
            f"{cfg.max_instances} nocobase instances need the commercial plugins {', '.join(CLUSTER_PLUGINS)}, "
            "which the stock image lacks: set secrets.nocobasePkgUsername and secrets.nocobasePkgPassword "
            "(`pulumi config set --secret --path appcluster:secrets.nocobasePkgPassword …`) so the image "
            "downloads them, or app.clusterPluginsInImage: true for an image that bundles them, or use "
            "replicas: 1",
        )
    if (
        cfg.storage is not None
        and cfg.storage.mode == "efs"
        and cfg.version is not None
        and cfg.version < UNPACKED_IN_IMAGE
    ):
        # Before 2.1 the entrypoint untars the app as root over /app/nocobase, its storage/ included, in
        # every new container (`set -e`); on an EFS access point every write is uid 1000, tar's chown
        # fails and the pod crash-loops (nocobase/nocobase docker/nocobase/docker-entrypoint.sh v1.9.62,
        # v2.0.62; from v2.1.0 the Dockerfile copies the app in extracted and the entrypoint untars nothing).
        raise Refused(
            "storage.mode",
            "efs",
            f"nocobase {'.'.join(map(str, cfg.version))} unpacks itself as root onto the storage volume at "
            "every start and crash-loops on an EFS access point (uid 1000): use nocobase/nocobase:2.2.15 "
            "(2.1.0 or later), or storage mode storage-class or nfs",
        )
    if (cfg.secrets.app_secret(PKG_USERNAME) is None) != (cfg.secrets.app_secret(PKG_PASSWORD) is None):
        raise Refused(
            "secrets.nocobasePkgPassword",
            "[secret]",
            "set both nocobasePkgUsername and nocobasePkgPassword, or neither",
        )


NOCOBASE = Profile(
    name="nocobase",
    # The current release, and one whose server code npm serves (tests/vendor runs it).
    default_image="nocobase/nocobase:2.2.15",
    health_path="/api/__health_check",
    data_path="/app/nocobase/storage",
    releases=(
        # 1.x reads APP_AES_SECRET_KEY as the raw key: exactly 32 characters, or `Key must be 32 bytes`
        # (nocobase/nocobase packages/core/server/src/aes-encryptor.ts, npm @nocobase/server 1.9.62).
        Release(
            (1, 9, 0),
            (2, 0, 0),
            (AppSecret("APP_KEY"), AppSecret("APP_AES_SECRET_KEY", "chars32"), ROOT_PASSWORD),
            source="@nocobase/server 1.9.62 lib/aes-encryptor.js",
            single_instance=_CACHE_ON_REDIS_URL,
        ),
        # 2.x decodes it as hex: 64 hex characters are the 32 key bytes (same file, 2.0.0 and 2.2.15).
        Release(
            (2, 0, 0),
            (2, 1, 24),
            (AppSecret("APP_KEY"), AppSecret("APP_AES_SECRET_KEY", "hex32"), ROOT_PASSWORD),
            source="@nocobase/server 2.0.0 lib/aes-encryptor.js",
            single_instance=_CACHE_ON_REDIS_URL,
        ),
        # From 2.1.24 the cache reads CACHE_REDIS_URL first (nocobase/nocobase packages/core/app/src/config/
        # cache.ts v2.1.24, "isolate cache Redis configuration"; npm @nocobase/app 2.2.15 lib/config/cache.js).
        Release(
            (2, 1, 24),
            (2, 3, 0),
            (AppSecret("APP_KEY"), AppSecret("APP_AES_SECRET_KEY", "hex32"), ROOT_PASSWORD),
            source="@nocobase/server 2.2.15 lib/aes-encryptor.js, @nocobase/app 2.2.15 lib/config/cache.js",
        ),
    ),
    optional_secrets=(AppSecret(PKG_USERNAME, "provided"), AppSecret(PKG_PASSWORD, "provided")),
    reserved_env=frozenset(
        {
            "CLUSTER_MODE",
            "WORKER_MODE",
            "PUBSUB_ADAPTER_REDIS_URL",
            "LOCK_ADAPTER_DEFAULT",
            "LOCK_ADAPTER_REDIS_URL",
            "QUEUE_ADAPTER",
            "QUEUE_ADAPTER_REDIS_URL",
            "REDIS_URL",
            "APPEND_PRESET_BUILT_IN_PLUGINS",
            PKG_USERNAME,
            PKG_PASSWORD,
            "DB_DIALECT_OPTIONS_SSL_REJECT_UNAUTHORIZED",
        }
    ),
    env=_env,
    default_port=_port,
    # The image's CMD (no ENTRYPOINT, no init) is this /bin/sh script, PID 1 of the container; it
    # installs no trap and runs `yarn start --quickstart` without exec, and a PID 1 gets no signal it
    # has no handler for: SIGTERM is ignored until the kubelet's SIGKILL (nocobase/nocobase
    # docker/nocobase/Dockerfile and docker-entrypoint.sh, v2.2.0 and v2.3.0-beta.3 alike).
    entrypoint=("/app/docker-entrypoint.sh",),
    # The image starts nginx and node as root and chowns storage at start.
    capabilities=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "NET_BIND_SERVICE"),
    # Stop all, upgrade one and verify, then start the rest: nodes of two versions must never mix.
    stop_all_before_upgrade=True,
    # CLUSTER_MODE runs several processes per instance; WORKER_MODE splits services (v1.9+).
    multi_process=True,
    workers=True,
    settings=frozenset({"plugins", "cluster_plugins_in_image", "root_email"}),
    # Its token blacklist keeps a Bloom filter in Redis; if BF.RESERVE fails at start it logs a warning and
    # asks the database for every token (@nocobase/plugin-auth 2.2.15 dist/server/token-blacklist.js, the
    # same in nocobase/nocobase v1.9.62 and v2.0.0; its only Bloom filter, v2.2.0): it starts and runs.
    # Every authenticated request asks the blacklist (@nocobase/auth 2.2.15 lib/base/auth.js check).
    redis_bloom_filters="checks every request's token against its token blacklist in the database instead (one more "
    "query per authenticated request)",
    # The image's own nginx gives /api/ 600 s and WebSocket upgrades (nocobase/nocobase
    # docker/nocobase/nocobase.conf); 10 s more, so that it, not our load balancer, ends a stalled request.
    idle_timeout_seconds=610,
    check=_check,
)
