"""The app as every target runs it: one primary, replicas that follow it, worker-only roles, the
same wiring and start order. AppCluster (Kubernetes) and DockerAppCluster take it as it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.shared import args as check
from profiles import MAX_INSTANCES
from profiles.base import OpenCheck
from profiles.wiring import Resolved

# The container's PID 1 in front of an image whose own ignores SIGTERM: a POSIX shell that starts the
# image's command in a session of its own (setsid: util-linux, in every Debian image) and passes TERM
# and INT to that whole process group, since the vendor's script runs the server without exec. It
# exits once the last process of the group is gone (each `sleep` reaps what was reparented to it), so
# the server's own shutdown runs to its end. `kill -TERM -PGID`, not `--`: dash's kill takes no `--`.
FORWARD_TERM = (
    'trap \'kill -TERM -"$child" 2>/dev/null\' TERM INT; setsid "$@" & child=$!; wait "$child"; status=$?; '
    'while kill -0 -"$child" 2>/dev/null; do sleep 0.2; done; exit "$status"'
)


def forward_term(command: Sequence[str]) -> tuple[str, ...]:
    """The container command that runs `command` under FORWARD_TERM; empty stays empty (the image's own)."""
    return ("sh", "-c", FORWARD_TERM, "sh", *command) if command else ()


@dataclass(frozen=True, kw_only=True)
class Worker:
    name: str  # the role is worker-<name>
    mode: str  # WORKER_MODE: '*' or <plugin>:<task> pairs
    replicas: int  # instances of this role


@dataclass(frozen=True, kw_only=True)
class AppSpec:
    app_name: str  # names and labels: <app>-primary, <app>-replicas, <app>-worker-<name>
    image: pulumi.Input[str]  # what every instance runs (a tag, or the built image's digest)
    port: int  # where the app listens
    health_path: str  # what the probes and the load balancer ask
    data_path: str  # where the shared volume is mounted
    replicas: int  # all instances that serve, the primary included
    env: Mapping[str, Resolved]  # the profile's wiring, resolved: literals, secret refs, pod name
    replica_env: Mapping[str, str] = field(default_factory=dict)  # added on every instance but the primary
    workers: Sequence[Worker] = ()  # worker-only roles, outside the load balancer
    grace_seconds: int = 60  # time to release locks and worker IDs on shutdown
    maintenance: bool = False  # every role at zero; the load balancer serves the 503 page
    args: Sequence[str] = ()  # to the image's entrypoint
    open_check: OpenCheck | None = None  # the health path is rate limited: probes by TCP, HTTP checks here
    drain_seconds: int = 0  # a stopping instance keeps serving this long before SIGTERM (within the grace period)
    command: Sequence[str] = ()  # the container's whole command (forward_term); empty: the image's own

    def __post_init__(self) -> None:
        total = self.replicas + sum(w.replicas for w in self.workers)
        check.require(
            self,
            1 <= self.replicas and total <= MAX_INSTANCES,
            "replicas",
            f"must be 1 or more, and with the workers' at most {MAX_INSTANCES}: worker IDs run "
            f"0-{MAX_INSTANCES - 1}, one per instance (got {total} in all)",
        )
        check.port(self, "port")
        check.absolute(self, "health_path", "data_path")
        check.require(self, self.grace_seconds >= 0, "grace_seconds", "must not be negative")
        check.require(
            self,
            self.drain_seconds == 0 or self.drain_seconds < self.grace_seconds,
            "drain_seconds",
            f"must be below grace_seconds ({self.grace_seconds}): the drain is part of it",
        )
        check.require(
            self,
            len({w.name for w in self.workers}) == len(self.workers),
            "workers",
            "must have distinct names: each is a role of its own",
        )
