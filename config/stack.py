"""The whole stack's settings: one model per concern, the rules that span them, and loading.

`load()` is the only way in: it validates everything before the program declares a resource
and turns every problem into a `ConfigError` whose message names the key, the value and the fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr, ValidationError, model_validator
from pydantic_core import ErrorDetails

from config.app import AppConfig
from config.aws import AwsConfig
from config.backup import BackupConfig
from config.base import Model, parse_image
from config.database import DatabaseConfig
from config.docker import UNSUPPORTED as DOCKER_UNSUPPORTED
from config.docker import DockerConfig
from config.kubernetes import UNSUPPORTED as KUBERNETES_UNSUPPORTED
from config.kubernetes import KubernetesConfig
from config.load_balancer import LoadBalancerConfig
from config.redis import RedisConfig
from config.secrets import APP_SECRET_KEYS, SecretsConfig
from config.storage import StorageConfig
from profiles import MAX_INSTANCES, PROFILES, AppSecret, EnvSpec, Profile
from profiles.base import Refused, Release, SecretKind, Version, parse_version

NAMESPACE = "appcluster"


class ConfigError(ValueError):
    """Invalid stack config. The message is meant for the person who wrote the config."""


class StackConfig(Model):
    # kubernetes: a cluster (and AWS managed services where chosen); docker: one Docker host.
    platform: Literal["kubernetes", "docker"] = "kubernetes"
    """Where it runs: kubernetes (a cluster, with AWS managed services where chosen) or docker (one Docker host)."""
    docker: DockerConfig = DockerConfig()
    """The docker platform's Docker host and published port."""
    app: AppConfig
    """The application: its profile, image, instances and per-app settings."""
    kubernetes: KubernetesConfig = KubernetesConfig()
    """Where it runs on Kubernetes: the cluster connection and the namespace."""
    redis: RedisConfig = RedisConfig()
    """Redis for cache, pub/sub, locks, queue and worker IDs, one DB index each."""
    database: DatabaseConfig = DatabaseConfig()
    """The database, reached through one entry point whatever sits behind it."""
    # Required on Kubernetes; the Docker target uses a named volume.
    storage: StorageConfig | None = None
    """Shared ReadWriteMany storage for the app's data path; required on Kubernetes, the docker platform uses a named volume."""
    load_balancer: LoadBalancerConfig = LoadBalancerConfig()
    """How traffic reaches the instances."""
    secrets: SecretsConfig = SecretsConfig()
    """Secret inputs, each set with `pulumi config set --secret --path appcluster:secrets.<key>`; unset ones are generated once."""
    backup: BackupConfig = BackupConfig()
    """Scheduled backups, and one before every upgrade named after the version being installed."""
    # Required when any concern uses an AWS mode (elasticache, rds, efs, nlb, alb).
    aws: AwsConfig | None = None
    """The VPC of the EKS cluster; required when any concern uses an AWS mode (elasticache, rds, efs, nlb, alb, ecr)."""
    # Pulumi `protect` on every stateful resource; turn off only for throw-away stacks.
    protect: bool = True
    """Pulumi `protect` (and `retainOnDelete` on volumes) on every stateful resource; turn off only for throw-away stacks."""
    # Stop every instance and serve a 503 maintenance page (upgrades, restores).
    maintenance: bool = False
    """Stop every instance and serve a 503 maintenance page (upgrades, restores)."""

    @model_validator(mode="before")
    @classmethod
    def _storage_default(cls, data: Any) -> Any:
        # `storage` is required: shared storage has no safe default, but say so in our words.
        if isinstance(data, dict) and "storage" not in data and data.get("platform", "kubernetes") == "kubernetes":
            raise ValueError(
                "storage is required: set appcluster:storage to {mode: storage-class, storageClass: <an RWX class>} "
                "or {mode: nfs, nfs: {server, path}}"
            )
        return data

    # -- values the profile fills in when the config leaves them unset --------------------------
    @property
    def profile(self) -> Profile:
        return PROFILES[self.app.profile]

    @property
    def app_name(self) -> str:
        return self.app.name or self.app.profile

    @property
    def app_image(self) -> str:
        return self.app.image or self.profile.default_image

    @property
    def app_port(self) -> int:
        return self.app.port or self.profile.default_port(self.app_image)

    @property
    def app_version(self) -> str:
        """What an upgrade moves to: the built image's tag, else the image's tag, or its digest."""
        if self.app.build is not None:
            return self.app.build.tag
        match = parse_image(self.app_image)
        return (match.group("digest") or "").removeprefix("sha256:")[:12] or match.group("tag")

    @property
    def health_path(self) -> str:
        return self.app.health_path or self.profile.health_path

    @property
    def data_path(self) -> str:
        return self.app.data_path or self.profile.data_path

    @property
    def version(self) -> Version | None:
        """The app's release, read from the image tag (or the built image's tag)."""
        tag = self.app.build.tag if self.app.build is not None else parse_image(self.app_image).group("tag")
        return parse_version(tag or "")

    @property
    def release(self) -> Release | None:
        return self.profile.release(self.version)

    @property
    def app_secrets(self) -> tuple[AppSecret, ...]:
        return self.profile.secrets(self)

    @property
    def generated_as(self) -> dict[str, SecretKind]:
        """By env name, the form a generated secret was made in (app.firstVersion's release), where it
        differs from the form the current release reads."""
        first = self.profile.release(parse_version(self.app.first_version or ""))
        made = {s.env: s.kind for s in (first.secrets if first else ())}
        return {
            s.env: made[s.env]
            for s in self.app_secrets
            if made.get(s.env, s.kind) != s.kind and self.secrets.app_secret(s.env) is None
        }

    @property
    def replica_env(self) -> Mapping[str, str]:
        return self.profile.replica_env(self)

    @property
    def env(self) -> EnvSpec:
        spec = dict(self.profile.env(self))
        spec.update(self.app.env)
        return spec

    @property
    def server_passwords(self) -> list[str]:
        """The `secrets` keys of the passwords the stack holds: for the servers it runs or creates."""
        keys = []
        if self.database.mode in ("in-cluster", "rds") and self.database.engine != "sqlite":
            keys += ["databasePassword"] + (["logDatabasePassword"] if self.database.log_database else [])
        if self.redis.mode in ("in-cluster", "elasticache"):
            keys.append("redisPassword")
        return keys

    @property
    def aws_modes(self) -> dict[str, str]:
        """The concerns that run on AWS managed services, by config key."""
        modes = {
            "redis.mode": self.redis.mode,
            "database.mode": self.database.mode,
            "storage.mode": self.storage.mode if self.storage else "",
            "loadBalancer.mode": self.load_balancer.mode,
        }
        if self.app.build is not None:
            modes["app.build.registry.mode"] = self.app.build.registry.mode
        return {k: v for k, v in modes.items() if v in ("elasticache", "rds", "efs", "nlb", "alb", "ecr")}

    @property
    def role_weights(self) -> dict[str, int]:
        """The load balancer's weight per role, where the profile weights its roles apart and there is
        more than one instance; empty otherwise (one pool, equal weights)."""
        if not self.profile.weighted_roles or self.app.replicas < 2:
            return {}
        return self.load_balancer.weights.model_dump()

    @property
    def warnings(self) -> list[str]:
        """What this config may do but what it costs, one line each (the program logs them as warnings)."""
        found = []
        cost = self.profile.redis_bloom_filters
        cache = self.redis.elasticache
        if cost and self.redis.mode == "in-cluster" and not _bloom_filters(self.redis.image):
            found.append(
                f"{NAMESPACE}:redis.image: {self.redis.image!r} offers no Bloom filters (BF.RESERVE), so "
                f"{self.app.profile} {cost}; redis:8.x or redis/redis-stack-server offer them"
            )
        if (
            cost
            and self.redis.mode == "elasticache"
            and (cache.engine != "valkey" or tuple(int(x) for x in cache.engine_version.split(".")) < (8, 1))
        ):
            found.append(
                f"{NAMESPACE}:redis.elasticache: {cache.engine} {cache.engine_version} offers no Bloom filters "
                f"(BF.RESERVE), so {self.app.profile} {cost}; ElastiCache valkey 8.1 or later offers them"
            )
        return found

    @property
    def max_instances(self) -> int:
        """Instances at the most: the primary plus the replica role at its ceiling, times processes."""
        replicas = self.app.replicas - 1
        if self.app.autoscaling.enabled:
            replicas = max(replicas, self.app.autoscaling.max_replicas)
        workers = sum(w.replicas for w in self.app.workers)
        return (1 + replicas + workers) * self.app.processes_per_instance


def _profiles_with(fact: str) -> str:
    """The registered profiles that have a fact, for a message: "nocobase", "new-api and x"."""
    names = [name for name, profile in PROFILES.items() if getattr(profile, fact)]
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]])) if names else "no profile"


def _fail(key: str, value: Any, message: str) -> NoReturn:
    raise ConfigError(f"{NAMESPACE}:{key}: {_show(value)} — {message}")


def _show(value: Any) -> str:
    if isinstance(value, SecretStr) or value == "[secret]":
        return "[secret]"
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def _check_release(cfg: StackConfig) -> None:
    """The image must be a version whose facts the profile knows, and secrets in the form it reads."""
    app = cfg.app
    if cfg.profile.from_config:
        return
    key: str
    value: Any
    key, value = ("app.build.tag", app.build.tag) if app.build is not None else ("app.image", cfg.app_image)
    release, version = cfg.release, cfg.version
    if release is None or version is None:
        _fail(
            key,
            value,
            f"appcluster knows {app.profile}'s facts (secret formats, env names) for versions "
            f"{cfg.profile.known_versions()} only; use a tag that names one of those versions, "
            f"e.g. {cfg.profile.default_image}",
        )
    if release.single_instance and cfg.max_instances > 1:
        safe = next((r for r in cfg.profile.releases if r.since > release.since and not r.single_instance), None)
        key, value = next(
            (k, v)
            for k, v, more in (
                ("app.replicas", app.replicas, app.replicas > 1),
                ("app.autoscaling.enabled", True, app.autoscaling.enabled),
                ("app.processesPerInstance", app.processes_per_instance, app.processes_per_instance > 1),
                ("app.workers", [w.name for w in app.workers], True),
            )
            if more
        )
        _fail(
            key,
            value,
            f"{app.profile} {'.'.join(map(str, version))} {release.single_instance}: run one instance"
            + (f", or {'.'.join(map(str, safe.since))} or later for more" if safe else ""),
        )
    _check_generated_forms(cfg, release, version)
    for secret in release.secrets:
        given = cfg.secrets.app_secret(secret.env)
        if given is None:
            continue
        plain = given.get_secret_value()
        config_key = next(k for k, env in APP_SECRET_KEYS.items() if env == secret.env)
        # Never advise a new key: data encrypted under the old one would be lost. A 1.x key (32
        # characters) is taken on 2.x as the hex of its bytes, the same key (components/shared/secrets.py).
        keep = (
            "set the key this stack's data is encrypted with, or leave it unset on a new stack (one is "
            "generated and kept)"
        )
        chars = len(plain) == 32 and plain.isascii()
        if secret.kind == "hex32" and not (re.fullmatch(r"[0-9a-fA-F]{64}", plain) or chars):
            _fail(
                f"secrets.{config_key}",
                given,
                f"{app.profile} {release.describe()} reads it as 32 bytes written "
                f"as 64 hex characters, or takes the 32 characters of an earlier "
                f"release's key (got {len(plain)} characters): {keep}",
            )
        if secret.kind == "chars32" and not chars:
            _fail(
                f"secrets.{config_key}",
                given,
                f"{app.profile} {release.describe()} uses it as the raw AES-256 "
                f"key, so it must be exactly 32 characters (got {len(plain)}): {keep}",
            )


def _check_generated_forms(cfg: StackConfig, release: Release, version: Version) -> None:
    """A generated secret whose form a later release changes must know the release it was made for
    (app.firstVersion): the new form gets a new generator, that is a new value, and for NocoBase's AES
    key every field encrypted before the upgrade unreadable."""
    app, first = cfg.app, cfg.app.first_version
    generated = [s for s in release.secrets if cfg.secrets.app_secret(s.env) is None and s.kind != "provided"]
    if first is not None:
        made = cfg.profile.release(parse_version(first))
        if made is None or made.since > release.since:
            _fail(
                "app.firstVersion",
                first,
                f"is no {app.profile} version before or at {'.'.join(map(str, version))} "
                f"whose facts appcluster knows ({cfg.profile.known_versions()}): set the "
                "version this stack was first deployed with",
            )
        for env, kind in cfg.generated_as.items():
            now = next(s.kind for s in generated if s.env == env)
            if (kind, now) != ("chars32", "hex32"):
                _fail(
                    "app.firstVersion",
                    first,
                    f"{env} was generated as {kind} for {app.profile} {made.describe()}, and "
                    f"{release.describe()} reads {now}: no conversion keeps it",
                )
        return
    later = [r for r in cfg.profile.releases if r.since > release.since]
    changing = sorted(
        {s.env for s in generated for r in later for t in r.secrets if t.env == s.env and t.kind != s.kind}
    )
    if changing:
        _fail(
            "app.firstVersion",
            None,
            f"{app.profile} {release.describe()} generates {', '.join(changing)} in a form "
            f'later releases read differently: set app.firstVersion: "{".".join(map(str, version))}" (the '
            "version this stack was first deployed with, kept across upgrades) so that an "
            "upgrade converts it instead of generating a new one",
        )


def _check_rules(cfg: StackConfig) -> None:
    """Rules that span concerns. Pydantic checked each value on its own before this runs."""
    app, profile = cfg.app, cfg.profile
    if profile.from_config:
        for field in ("image", "health_path", "data_path", "port", "generic"):
            if getattr(app, field) is None:
                key = re.sub(r"_(\w)", lambda m: m.group(1).upper(), field)
                _fail(f"app.{key}", None, f"profile {app.profile} takes its {key} from config: set app.{key}")
    elif app.generic is not None:
        _fail(
            "app.generic",
            "…",
            f"profile {app.profile} does not read app.generic (only {_profiles_with('from_config')} do): remove it",
        )

    per_app = {field for p in PROFILES.values() for field in p.settings}
    for field in sorted(app.model_fields_set & per_app - profile.settings):
        readers = " and ".join(name for name, p in PROFILES.items() if field in p.settings)
        key = re.sub(r"_(\w)", lambda m: m.group(1).upper(), field)
        _fail(
            f"app.{key}",
            app.model_dump(mode="json")[field],
            f"only profile {readers} reads it; {app.profile} would ignore it: remove it",
        )
    if app.processes_per_instance > 1 and not profile.multi_process:
        _fail(
            "app.processesPerInstance",
            app.processes_per_instance,
            f"profile {app.profile} runs one process per instance (several: {_profiles_with('multi_process')}); "
            "use 1 and scale replicas",
        )
    if app.replicas * app.processes_per_instance > MAX_INSTANCES:
        _fail(
            "app.replicas",
            app.replicas,
            f"replicas × processesPerInstance = {app.replicas * app.processes_per_instance} exceeds "
            f"{MAX_INSTANCES}: worker IDs run 0–31, so lower replicas or processesPerInstance",
        )
    if app.workers and not profile.workers:
        _fail(
            "app.workers",
            [w.name for w in app.workers],
            f"profile {app.profile} has no worker-only instances (only {_profiles_with('workers')} do): remove them",
        )
    if app.workers and cfg.max_instances > MAX_INSTANCES:
        _fail(
            "app.workers",
            [w.name for w in app.workers],
            f"app instances plus workers can reach {cfg.max_instances}, more than {MAX_INSTANCES} worker IDs: "
            "lower the workers' or the app's replicas",
        )
    if app.autoscaling.enabled and cfg.max_instances > MAX_INSTANCES:
        _fail(
            "app.autoscaling.maxReplicas",
            app.autoscaling.max_replicas,
            f"(1 primary + {app.autoscaling.max_replicas} replicas) × {app.processes_per_instance} processes = "
            f"{cfg.max_instances} exceeds {MAX_INSTANCES}: use at most "
            f"{MAX_INSTANCES // app.processes_per_instance - 1}",
        )

    _check_release(cfg)
    reserved = (
        set(cfg.profile.env(cfg)) | {s.env for s in cfg.app_secrets} | set(cfg.replica_env) | cfg.profile.reserved_env
    )
    for name in app.env:
        if name in reserved:
            _fail(
                f"app.env.{name}",
                "…",
                f"{name} is wired by appcluster (secrets and connections come from Secrets); remove it from app.env",
            )

    db = cfg.database
    if db.image and db.engine in ("postgres", "mysql"):
        repo = parse_image(db.image).group("path").rsplit("/", 1)[-1]
        other = {"postgres": ("mysql", "mariadb"), "mysql": ("postgres", "postgis")}[db.engine]
        if any(name in repo for name in other):
            _fail(
                "database.image",
                db.image,
                f"is not a {db.engine} server image, but database.engine is {db.engine}: make them agree",
            )
    if db.engine not in profile.database_engines:
        _fail(
            "database.engine",
            db.engine,
            f"profile {app.profile} runs on {' or '.join(sorted(profile.database_engines))}",
        )
    if db.engine == "sqlite":
        if app.replicas > 1 or app.autoscaling.enabled:
            _fail(
                "database.engine",
                "sqlite",
                f"SQLite cannot be shared by {app.replicas} instances: use postgres or mysql, or replicas: 1",
            )
        if db.mode == "external":
            _fail("database.mode", "external", "an external database needs engine postgres or mysql")

    if cfg.redis.mode == "external":
        _check_url("secrets.redisUrl", cfg.secrets.redis_url, ("redis", "rediss"), "rediss://:password@host:6379")
    if db.log_database and (not profile.log_database or db.engine == "sqlite"):
        _fail(
            "database.logDatabase",
            True,
            f"profile {app.profile} on {db.engine} keeps no logs in a second database "
            f"(only {_profiles_with('log_database')} on postgres or mysql do)",
        )
    if db.mode == "external":
        schemes = ("postgres", "postgresql") if db.engine == "postgres" else ("mysql",)
        example = f"{schemes[0]}://user:password@host:{db.port}/{db.name}"
        _check_url("secrets.databaseUrl", cfg.secrets.database_url, schemes, example)
        if db.log_database:
            _check_url("secrets.logDatabaseUrl", cfg.secrets.log_database_url, schemes, example)

    _check_platform(cfg)
    _check_aws(cfg)
    build = app.build
    if build is not None:
        dockerfile = Path(build.context) / build.dockerfile
        if not dockerfile.is_file():
            _fail(
                "app.build.context",
                build.context,
                f"no {dockerfile} there: the context is a folder of this project holding the Dockerfile",
            )
        if build.registry.mode == "registry" and cfg.secrets.registry_password is None:
            _fail(
                "secrets.registryPassword",
                None,
                "registry mode registry needs the registry's password or token: "
                "`pulumi config set --secret --path appcluster:secrets.registryPassword …`",
            )

    ingress = cfg.load_balancer.ingress
    if ingress.enabled and not ingress.host:
        _fail("loadBalancer.ingress.host", None, "an Ingress needs a host name, e.g. app.example.com")
    if ingress.tls_secret_name and not ingress.enabled:
        _fail(
            "loadBalancer.ingress.tlsSecretName",
            ingress.tls_secret_name,
            "set loadBalancer.ingress.enabled: true to use TLS",
        )
    try:
        profile.check(cfg)
    except Refused as refused:
        _fail(refused.key, refused.value, refused.message)


# Each platform's declaration of the keys it does not implement (beside its config model): a key
# that validated and was then ignored, or crashed the program, is refused instead; the docs show it.
PLATFORM_UNSUPPORTED: dict[str, Mapping[str, str]] = {
    "kubernetes": KUBERNETES_UNSUPPORTED,
    "docker": DOCKER_UNSUPPORTED,
}


def _value_at(cfg: BaseModel, key: str) -> Any:
    """The value at a dotted camelCase config key."""
    value: Any = cfg
    for part in key.split("."):
        fields = type(value).model_fields
        value = getattr(value, next(name for name, f in fields.items() if (f.alias or name) == part))
    return value


def _check_platform(cfg: StackConfig) -> None:
    for key, advice in PLATFORM_UNSUPPORTED[cfg.platform].items():
        value = _value_at(cfg, key)
        if value:
            _fail(key, "…" if isinstance(value, BaseModel) else value, advice)
    modes = cfg.aws_modes
    if cfg.platform == "docker" and modes:
        key, mode = next(iter(modes.items()))
        _fail(
            key,
            mode,
            "the docker platform runs everything on one Docker host: use in-cluster or external "
            "(and loadBalancer.mode service), or platform kubernetes",
        )
    instances = cfg.app.replicas + sum(w.replicas for w in cfg.app.workers)
    if cfg.platform == "docker" and cfg.profile.stop_all_before_upgrade and instances > 1:
        # pulumi-docker replaces each changed container on its own: the primary would migrate while
        # the other instances still run the old version, with no backup first (Kubernetes gates this
        # with the upgrade Jobs, components/kubernetes/upgrade.py).
        _fail(
            "app.replicas",
            cfg.app.replicas,
            f"{cfg.app.profile} must not run two versions at once, and the docker platform cannot stop the other "
            f"{instances - 1} instance(s) and back up before an upgrade: use replicas: 1 (and no workers) on docker, "
            "or platform kubernetes",
        )


def _check_aws(cfg: StackConfig) -> None:
    modes = cfg.aws_modes
    if modes and cfg.aws is None:
        key, mode = next(iter(modes.items()))
        _fail(
            "aws",
            None,
            f"{key} {mode} runs on AWS: set appcluster:aws to {{region, vpcId, privateSubnetIds "
            "(two or more, one per AZ), nodeSecurityGroupId} of the EKS cluster",
        )
    if cfg.database.mode == "rds" and cfg.database.engine == "sqlite":
        _fail("database.engine", "sqlite", "RDS runs postgres or mysql")
    version = cfg.database.rds.engine_version
    if cfg.database.mode == "rds" and version:
        major = version.split(".")[0]
        if cfg.database.engine == "postgres" and not (major.isdigit() and int(major) >= 12):
            _fail(
                "database.rds.engineVersion",
                version,
                'is no PostgreSQL version RDS and RDS Proxy run: use 12 to 17 (e.g. "17")',
            )
        if cfg.database.engine == "mysql" and not version.startswith(("8.0", "8.4")):
            _fail(
                "database.rds.engineVersion", version, 'is no MySQL version RDS and RDS Proxy run: use "8.0" or "8.4"'
            )
    lb = cfg.load_balancer
    if lb.mode in ("nlb", "alb") and not lb.certificate_arn:
        _fail("loadBalancer.certificateArn", None, f"mode {lb.mode} terminates TLS: give the ACM certificate ARN")
    if lb.mode == "alb" and lb.ingress.enabled:
        _fail(
            "loadBalancer.ingress.enabled",
            True,
            "mode alb declares its own Ingress (class alb): set ingress.host only, or use mode service",
        )


def _bloom_filters(image: str) -> bool:
    """Whether a Redis server image offers Bloom filters (BF.*): redis 8+, redis-stack, valkey-bundle."""
    match = parse_image(image)
    repo = match.group("path").rsplit("/", 1)[-1]
    major = re.match(r"^(\d+)", match.group("tag") or "")
    return repo in ("redis-stack", "redis-stack-server", "valkey-bundle") or (
        repo == "redis" and major is not None and int(major.group(1)) >= 8
    )


def _check_url(key: str, secret: SecretStr | None, schemes: tuple[str, ...], example: str) -> None:
    if secret is None:
        _fail(
            key, None, f"required by mode external: `pulumi config set --path --secret {NAMESPACE}:{key} '{example}'`"
        )
    parts = urlsplit(secret.get_secret_value())
    try:
        _ = parts.port
    except ValueError:
        _fail(key, secret, f"has an invalid port; expected a URL like {example}")
    if parts.scheme not in schemes or not parts.hostname:
        _fail(key, secret, f"must be a URL like {example} (scheme {' or '.join(schemes)}, with a host)")


# -- turning pydantic's errors into one line a newcomer understands ---------------------------------


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    for part in loc:
        if not isinstance(part, str):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return model
        annotation = field.annotation
        inner = [
            a
            for a in getattr(annotation, "__args__", (annotation,))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not inner:
            return model
        model = inner[0]
    return model


# Types are strict (no "yes" read as true, no 1 read as "1"): say what is wanted in words, and how
# `pulumi config set --path`, which writes text unless told a type, gets it right.
_TYPE_HINTS = {
    "bool_type": "must be true or false, unquoted (quoted, 'true' or 'yes' is text); with `pulumi config set --path` "
    "add `--type bool`",
    "int_type": "must be a whole number, unquoted; with `pulumi config set --path` add `--type int`",
    "float_type": "must be a number, unquoted; with `pulumi config set --path` add `--type float`",
    "string_type": 'must be text: quote it in the stack file (e.g. "1" for one CPU)',
    "list_type": "must be a list, e.g. [a, b]",
    "dict_type": "must be a mapping of keys to values, e.g. {key: value}",
    "model_type": "must be a mapping of keys to values, e.g. {key: value}",
}


def _describe(error: ErrorDetails) -> str:
    loc = tuple(error["loc"])
    key = ".".join(str(p) for p in loc)
    if error["type"] == "extra_forbidden":
        parent = _fields_at(StackConfig, loc[:-1]) or StackConfig
        allowed = sorted(f.alias or n for n, f in parent.model_fields.items())
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"{NAMESPACE}:{key}: unknown key{hint}; allowed keys here: {', '.join(allowed)}"
    message = _TYPE_HINTS.get(error["type"]) or error["msg"].removeprefix("Value error, ").removeprefix(
        "Assertion failed, "
    )
    if error["type"] == "missing":
        return f"{NAMESPACE}:{key}: is required"
    value = "[secret]" if loc and loc[0] == "secrets" else error.get("input")
    if not loc:
        return f"{NAMESPACE}: {message}"
    return f"{NAMESPACE}:{key}: {_show(value)} — {message}"


def load(raw: Mapping[str, Any]) -> StackConfig:
    """Validate the `appcluster:` keys (already parsed from YAML/JSON) into a StackConfig."""
    try:
        cfg = StackConfig.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(e) for e in exc.errors(include_url=False))) from None
    _check_rules(cfg)
    return cfg
