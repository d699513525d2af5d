"""The application: which profile, which image, how many instances and how they run."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, HttpUrl, model_validator

from config.base import AbsPath, DnsLabel, Image, Model, Port, Resources, matching
from config.image import BuildConfig
from profiles import MAX_INSTANCES, PLATFORM_BINDINGS, PROFILES

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError("must be an environment variable name: letters, digits and '_', not starting with a digit")
    return value


def _instances(value: int) -> int:
    if not 1 <= value <= MAX_INSTANCES:
        raise ValueError(f"must be between 1 and {MAX_INSTANCES}: snowflake worker IDs run 0–31, one per instance")
    return value


Instances = Annotated[int, AfterValidator(_instances)]


def _binding(value: str) -> str:
    if value not in PLATFORM_BINDINGS:
        raise ValueError(f"must be one of {', '.join(sorted(PLATFORM_BINDINGS))}")
    return value


def _profile(value: str) -> str:
    """A profile registered in profiles/ (config names none: adding one touches profiles/ only)."""
    if value not in PROFILES:
        names = [repr(name) for name in PROFILES]
        raise ValueError(f"is no profile appcluster knows: use {', '.join(names[:-1])} or {names[-1]}")
    return value


def _iana_zone(value: str) -> str:
    import zoneinfo

    if value not in zoneinfo.available_timezones():
        raise ValueError(
            "must be an IANA time zone name such as UTC, Europe/Berlin or Asia/Shanghai (the app reads TZ)"
        )
    return value


# Every name the stack derives from app.name must fit its service: the longest is the pre-upgrade
# backup Job, "<name>-backup-before-<version up to 24>", and a Job's name is at most 63 characters
# (its pods carry it as a label); RDS and ElastiCache identifiers refuse "--".
MAX_APP_NAME = 63 - len("-backup-before-") - 24


def _app_name(value: str) -> str:
    if len(value) > MAX_APP_NAME:
        raise ValueError(
            f"is {len(value)} characters; at most {MAX_APP_NAME}: the longest name derived from it, the "
            f"pre-upgrade backup Job '{value}-backup-before-<version>', must fit Kubernetes' 63"
        )
    if "--" in value:
        raise ValueError(
            "must not contain '--': RDS and ElastiCache identifiers derived from it refuse two hyphens in a row"
        )
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
AppName = Annotated[DnsLabel, AfterValidator(_app_name)]
Binding = Annotated[str, AfterValidator(_binding)]


class Autoscaling(Model):
    """A HorizontalPodAutoscaler on the replica role (the primary is always exactly one)."""

    enabled: bool = False
    """Run an HPA on the replica role."""
    min_replicas: int = Field(2, ge=1, le=MAX_INSTANCES - 1)
    """The fewest replica-role instances the HPA keeps."""
    max_replicas: int = Field(8, ge=1, le=MAX_INSTANCES - 1)
    """The most replica-role instances; (1 + maxReplicas) × processesPerInstance must stay within the 32 worker IDs."""
    target_cpu_percent: int = Field(70, ge=1, le=100)
    """The average CPU use, in percent of the request, the HPA aims at."""

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) must not exceed maxReplicas ({self.max_replicas})")
        return self


ReleaseVersion = Annotated[
    str, matching(r"v?\d+\.\d+(\.\d+)?", 'must be a version the app was released as, e.g. "1.9.62"')
]
WorkerMode = Annotated[
    str,
    matching(
        r"\*|[a-z-]+:[a-z-]+(,[a-z-]+:[a-z-]+)*",
        "must be '*' (every task) or comma-separated <plugin>:<task> pairs, e.g. 'workflow:process,async-task:process'",
    ),
]
Email = Annotated[str, matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", 'must be an email address, e.g. "admin@example.com"')]


class WorkerConfig(Model):
    """NocoBase service splitting: instances that run background tasks only (WORKER_MODE), outside the
    load balancer. mode: '*' for every task, or a list such as 'workflow:process,async-task:process'."""

    name: DnsLabel
    """The worker group's name (a DNS label); its Deployment is <app>-worker-<name>."""
    mode: WorkerMode
    """WORKER_MODE: '*' for every background task, or <plugin>:<task> pairs."""
    replicas: int = Field(1, ge=1, le=MAX_INSTANCES - 1)
    """How many task-only instances of this group run."""


class GenericSettings(Model):
    """For profile `generic`: which variables get a shared secret and which get platform values."""

    secret_env: list[EnvName] = []
    """Variables that get a generated shared secret, the same on every instance."""
    env_map: dict[EnvName, Binding] = {}
    """Variables set from a platform value (e.g. redis.cache, database.dsn)."""


class SecurityContext(Model):
    """Leave unset to use the profile's choice; set runAsUser for images that run as non-root."""

    run_as_user: int | None = Field(None, ge=1)
    """The UID the app's containers run as; unset uses the profile's choice (root for NocoBase and New API)."""
    read_only_root_filesystem: bool = False
    """Mount the container's root filesystem read-only (the image must allow it)."""


class AppConfig(Model):
    profile: Annotated[str, AfterValidator(_profile)]
    """The app: nocobase, new-api or generic."""
    name: AppName | None = None
    """The app's name, prefix of every derived name; the profile's by default, at most 24 characters."""
    image: Image | None = None
    """The image to run, pinned by tag or digest; the profile's default by default."""
    port: Port | None = None
    """The port the app listens on; the profile's by default (NocoBase 80, or 13000 for -no-nginx images; New API 3000)."""
    health_path: AbsPath | None = None
    """The HTTP path the probes and the load balancer check; the profile's by default."""
    data_path: AbsPath | None = None
    """Where the shared storage is mounted in the app's containers; the profile's by default."""
    replicas: Instances = 3
    """All instances: one primary plus replicas - 1 on the replica role (1–32)."""
    processes_per_instance: int = Field(1, ge=1, le=MAX_INSTANCES)
    """Processes per instance (NocoBase CLUSTER_MODE); replicas × processes must stay within 32."""
    autoscaling: Autoscaling = Autoscaling()
    """An HPA on the replica role."""
    resources: Resources = Resources()
    """The app containers' requests and limits."""
    security_context: SecurityContext = SecurityContext()
    """The app containers' user and root filesystem."""
    termination_grace_period_seconds: int = Field(60, ge=5, le=3600)
    """How long an instance may take to stop after SIGTERM."""
    startup_timeout_seconds: int = Field(900, ge=30, le=7200)
    """How long a first start or an upgrade may take before the startup probe gives up."""
    timezone: Annotated[str, AfterValidator(_iana_zone)] = "UTC"
    """The app's IANA time zone (TZ)."""
    env: dict[EnvName, str] = {}
    """Extra plain environment variables; names the profile wires are refused."""
    plugins: list[str] | None = None
    """NocoBase: the plugins to enable; the four Redis adapter plugins by default."""
    cluster_plugins_in_image: bool = False
    """NocoBase: the image already holds the commercial cluster plugins (no download credentials needed)."""
    frontend_base_url: HttpUrl | None = None
    """New API slaves only: a separate frontend host, never the load balancer's own."""
    root_email: Email = "admin@example.com"
    """NocoBase's root account, created on first install (its password: secrets.rootPassword); a reserved domain (RFC 2606) by default, so no password-reset mail reaches a stranger."""
    sync_frequency_seconds: int = Field(60, ge=1, le=3600)
    """New API: how often each instance reloads options and channels from the database."""
    batch_update_interval_seconds: int = Field(5, ge=1, le=3600)
    """New API: how often batched usage updates are written."""
    generic: GenericSettings | None = None
    """Profile generic only: which variables get shared secrets and platform values."""
    workers: list[WorkerConfig] = []
    """NocoBase service splitting: task-only instances outside the load balancer."""
    build: BuildConfig | None = None
    """Build the image from a Dockerfile here and run it by digest, instead of pulling app.image."""
    first_version: ReleaseVersion | None = None
    """The version this stack was first deployed with, kept across upgrades: it decides how the generated secrets were made (NocoBase 1.9's AES key is 32 characters, 2.x's 64 hex). Required for a NocoBase 1.9 stack."""
