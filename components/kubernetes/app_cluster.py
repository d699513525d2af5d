"""AppCluster: the application's instances, in two roles.

primary: exactly one instance. It starts first and runs plugin installs / migrations (New API's
master). `Recreate`, so an update never runs two at once.
replicas: the remaining instances (New API: NODE_TYPE=slave), declared to depend on the primary, so
Pulumi creates or updates them only once the provider has seen the primary become ready.

Every instance reads the same shared Secret for its app secrets and one connections Secret for
URLs and DSNs that embed credentials; no secret is ever a literal env value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv
from components.kubernetes import upgrade
from components.shared import args as check
from components.shared.app import AppSpec
from profiles import MAX_INSTANCES
from profiles.wiring import PodName, Resolved, Sensitive, SharedSecretKey

PRIMARY, REPLICAS = "primary", "replicas"
COMPONENT = "app"
# Task-only instances (NocoBase WORKER_MODE): a component of their own, so no Service selects them.
WORKER_COMPONENT = "worker"
PROBE_PERIOD = 10
# How long Pulumi may wait for a rollout beyond the startup window: scheduling, image pulls, readiness.
ROLLOUT_MARGIN_SECONDS = 600


class AutoscalingSpec(Protocol):
    """What the HPA on the replica role reads (the stack config's app.autoscaling has this shape)."""

    @property
    def enabled(self) -> bool: ...
    @property
    def min_replicas(self) -> int: ...
    @property
    def max_replicas(self) -> int: ...
    @property
    def target_cpu_percent(self) -> int: ...


@dataclass(frozen=True, kw_only=True)
class AppClusterArgs:
    app: AppSpec  # the instances, roles and wiring, as every target runs them
    namespace: pulumi.Input[str]  # where the Deployments, Secrets and PDB go
    shared_secret_name: pulumi.Input[str]  # the Secret every instance reads the app secrets from
    storage_claim: pulumi.Input[str]  # the ReadWriteMany claim mounted at the data path
    resources: Mapping[str, Any]  # the containers' requests and limits, as Kubernetes takes them
    run_as_user: int | None = None  # None: the image runs as root
    read_only_root: bool = False  # a read-only root filesystem (the image must allow it)
    local_paths: Mapping[str, str] = field(default_factory=dict)  # per-pod scratch off the shared volume: path -> size
    capabilities: Sequence[str] = ()  # added back after dropping ALL (root images)
    startup_timeout_seconds: int = 900  # how long a first start or migration may take before the probe gives up
    autoscaling: AutoscalingSpec | None = None  # an HPA on the replica role, when enabled
    spread_keys: Sequence[str] = ()  # topology keys the instances spread over
    pull_config: pulumi.Input[str] | None = None  # a registry's docker config JSON (secret), private registries
    version: str = ""  # the version the primary moves to: names the upgrade Jobs
    before_primary: Sequence[pulumi.Resource] = ()  # what must finish before the primary moves (a backup)
    # What the instances connect to (secrets, Redis, the database, the storage): the primary is created once
    # all of it is, proxy targets and StatefulSets included; a component's depends_on reaches no child.
    connects_to: Sequence[pulumi.Resource] = ()
    stop_others_before_upgrade: bool = False  # no rolling upgrade across versions (NocoBase): stop the others first

    @property
    def hpa(self) -> AutoscalingSpec | None:
        """The autoscaling settings when an HPA runs the replica role, else None."""
        return self.autoscaling if self.autoscaling is not None and self.autoscaling.enabled else None

    @property
    def autoscaled(self) -> bool:
        return self.hpa is not None

    def __post_init__(self) -> None:
        check.require(
            self,
            self.app.data_path not in self.local_paths,
            "local_paths",
            "must not hold the data path: it is the shared volume",
        )
        check.require(self, self.startup_timeout_seconds >= 30, "startup_timeout_seconds", "must be 30 or more")
        if (scaling := self.hpa) is not None:
            check.require(
                self,
                1 <= scaling.min_replicas <= scaling.max_replicas,
                "autoscaling",
                f"needs 1 <= minReplicas ({scaling.min_replicas}) <= maxReplicas ({scaling.max_replicas})",
            )
            check.require(
                self,
                1 + scaling.max_replicas <= MAX_INSTANCES,
                "autoscaling",
                f"maxReplicas {scaling.max_replicas} and the primary exceed {MAX_INSTANCES} worker IDs",
            )
        if self.stop_others_before_upgrade:
            check.require(
                self,
                bool(self.version),
                "version",
                "is required to stop the others before an upgrade (the stop Job is named after it)",
            )


class AppCluster(pulumi.ComponentResource):
    primary_name: pulumi.Output[str]
    replicas_name: pulumi.Output[str] | None
    # Selects every instance that serves requests (both roles), and each role's alone.
    pod_selector: Mapping[str, str]
    role_selectors: Mapping[str, Mapping[str, str]]

    def __init__(self, name: str, args: AppClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:AppCluster", name, None, opts)
        self.pod_selector = conv.selector(args.app.app_name, COMPONENT)
        self.role_selectors = {role: {**self.pod_selector, conv.ROLE_LABEL: role} for role in (PRIMARY, REPLICAS)}
        env = self._env(name, args)
        self._pull_secrets = self._registry_secret(name, args)
        running = 0 if args.app.maintenance else 1
        autoscaled = args.autoscaled and not args.app.maintenance

        gate = list(args.before_primary)
        upgrade_gate = None
        if args.stop_others_before_upgrade:
            # Pods get their grace period to release locks and worker IDs, plus time to be rescheduled away.
            upgrade_gate = upgrade.UpgradeGate(
                name,
                upgrade.UpgradeGateArgs(
                    app_name=args.app.app_name,
                    namespace=args.namespace,
                    version=args.version,
                    others_selector=(
                        f"app.kubernetes.io/instance={args.app.app_name},app.kubernetes.io/component in "
                        f"({COMPONENT},{WORKER_COMPONENT}),{conv.ROLE_LABEL}!={PRIMARY}"
                    ),
                    wait_seconds=args.app.grace_seconds + 120,
                ),
                after=args.before_primary,
                opts=pulumi.ResourceOptions(parent=self),
            )
            gate.append(upgrade_gate.stop_job)
        primary = self._deployment(name, args, PRIMARY, running, env, depends_on=[*gate, *args.connects_to])
        self.primary_name = primary.metadata.name
        self.replicas_name = None
        replica_count = args.app.replicas - 1
        if args.hpa is not None:
            replica_count = max(replica_count, args.hpa.min_replicas)
        others: dict[str, tuple[k8s.apps.v1.Deployment, int]] = {}
        if replica_count > 0:
            replica_env = env + [{"name": k, "value": v} for k, v in args.app.replica_env.items()]
            replicas = self._deployment(
                name, args, REPLICAS, replica_count * running, replica_env, depends_on=[primary], autoscaled=autoscaled
            )
            self.replicas_name = replicas.metadata.name
            others[f"{args.app.app_name}-{REPLICAS}"] = (replicas, replica_count)
            if autoscaled:
                self._autoscaler(name, args, replicas)
        for worker in args.app.workers:
            role = f"worker-{worker.name}"
            deployment = self._deployment(
                name,
                args,
                role,
                worker.replicas * running,
                [*env, {"name": "WORKER_MODE", "value": worker.mode}],
                depends_on=[primary],
                component=WORKER_COMPONENT,
            )
            others[f"{args.app.app_name}-{role}"] = (deployment, worker.replicas)
        # In maintenance every role stays at zero: nothing to bring back.
        if upgrade_gate is not None and others and not args.app.maintenance:
            upgrade_gate.resume({n: count for n, (_, count) in others.items()}, after=[d for d, _ in others.values()])

        if args.app.replicas > 1 or args.autoscaled:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata={
                    "name": args.app.app_name,
                    "namespace": args.namespace,
                    "labels": conv.labels(args.app.app_name, COMPONENT),
                },
                # One voluntary disruption at a time, whatever the current size.
                spec={"maxUnavailable": 1, "selector": {"matchLabels": dict(self.pod_selector)}},
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"primary_name": self.primary_name, "replicas_name": self.replicas_name})

    def _registry_secret(self, name: str, args: AppClusterArgs) -> list[dict[str, Any]]:
        """imagePullSecrets for a private registry (none needed for public images or ECR on EKS)."""
        if args.pull_config is None:
            return []
        pull = k8s.core.v1.Secret(
            f"{name}-registry",
            metadata={
                "name": f"{args.app.app_name}-registry",
                "namespace": args.namespace,
                "labels": conv.labels(args.app.app_name, COMPONENT),
            },
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": pulumi.Output.secret(args.pull_config)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return [{"name": pull.metadata.name}]

    def _env(self, name: str, args: AppClusterArgs) -> list[dict[str, Any]]:
        sensitive = {k: v.value for k, v in args.app.env.items() if isinstance(v, Sensitive)}
        connections = None
        if sensitive:
            connections = k8s.core.v1.Secret(
                f"{name}-connections",
                metadata={
                    "name": f"{args.app.app_name}-connections",
                    "namespace": args.namespace,
                    "labels": conv.labels(args.app.app_name, COMPONENT),
                },
                type="Opaque",
                string_data={k: pulumi.Output.secret(v) for k, v in sensitive.items()},
                opts=pulumi.ResourceOptions(parent=self),
            ).metadata.name

        def var(key: str, value: Resolved) -> dict[str, Any]:
            if isinstance(value, SharedSecretKey):
                return {"name": key, "valueFrom": {"secretKeyRef": {"name": args.shared_secret_name, "key": value.key}}}
            if isinstance(value, Sensitive):
                return {"name": key, "valueFrom": {"secretKeyRef": {"name": connections, "key": key}}}
            if isinstance(value, PodName):
                return {"name": key, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
            return {"name": key, "value": value.value}

        return [var(k, v) for k, v in args.app.env.items()]

    def _deployment(
        self,
        name: str,
        args: AppClusterArgs,
        role: str,
        count: int,
        env: list[dict[str, Any]],
        depends_on: list[pulumi.Resource],
        autoscaled: bool = False,
        component: str = COMPONENT,
    ) -> k8s.apps.v1.Deployment:
        pod_labels = conv.labels(args.app.app_name, component, role)
        selector = {**conv.selector(args.app.app_name, component), conv.ROLE_LABEL: role}
        # A health path behind the app's per-client-IP rate limit must not get the kubelet's probes: they
        # all come from the node's address, so a few pods would exhaust the limit and be taken out.
        ready = (
            {"tcpSocket": {"port": "http"}}
            if args.app.open_check
            else {"httpGet": {"path": args.app.health_path, "port": "http", "scheme": "HTTP"}}
        )
        strategy: dict[str, Any]
        if role == PRIMARY:
            # Never two primaries: the old one is gone before the new one migrates.
            strategy = {"type": "Recreate"}
        else:
            # maxSurge 0: a rollout never adds an instance beyond the 32 worker IDs.
            strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
        volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": args.storage_claim}}]
        mounts = [{"name": "data", "mountPath": args.app.data_path}]
        if args.read_only_root:
            volumes.append({"name": "tmp", "emptyDir": {}})
            mounts.append({"name": "tmp", "mountPath": "/tmp"})
        for i, (path, size) in enumerate(sorted(args.local_paths.items())):
            volumes.append({"name": f"local-{i}", "emptyDir": {"sizeLimit": size}})
            mounts.append({"name": f"local-{i}", "mountPath": path})
        container: dict[str, Any] = {}
        if args.app.args:
            container["args"] = list(args.app.args)
        if args.app.drain_seconds:
            # The sleep action runs in the kubelet (no shell or sleep binary in the image needed); it is
            # on by default since Kubernetes 1.30 and GA in 1.34 (PodLifecycleSleepAction: k8s.io/kubernetes
            # v1.35.4 pkg/features/kube_features.go).
            container["lifecycle"] = {"preStop": {"sleep": {"seconds": args.app.drain_seconds}}}
        spec = {
            "replicas": count,
            "revisionHistoryLimit": 5,
            "strategy": strategy,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "imagePullSecrets": self._pull_secrets,
                    # Graceful shutdown releases locks and worker IDs before the pod goes.
                    "terminationGracePeriodSeconds": args.app.grace_seconds,
                    "securityContext": conv.pod_security_context(args.run_as_user),
                    "topologySpreadConstraints": conv.spread(
                        args.spread_keys, conv.selector(args.app.app_name, component)
                    ),
                    "containers": [
                        {
                            "name": COMPONENT,
                            "image": args.app.image,
                            # PID 1 that passes SIGTERM on, where the image's own would ignore it.
                            **({"command": list(args.app.command)} if args.app.command else {}),
                            "ports": [{"name": "http", "containerPort": args.app.port, "protocol": "TCP"}],
                            "env": env,
                            "resources": dict(args.resources),
                            "securityContext": conv.container_security_context(
                                args.run_as_user, args.read_only_root, args.capabilities
                            ),
                            # The health endpoint answers 503 while installing or migrating: the startup
                            # probe waits that out so liveness never kills a pod mid-upgrade.
                            "startupProbe": {
                                **ready,
                                "periodSeconds": PROBE_PERIOD,
                                "timeoutSeconds": 5,
                                "failureThreshold": math.ceil(args.startup_timeout_seconds / PROBE_PERIOD),
                            },
                            "readinessProbe": {
                                **ready,
                                "periodSeconds": PROBE_PERIOD,
                                "timeoutSeconds": 5,
                                "failureThreshold": 3,
                            },
                            # Liveness asks only whether the server accepts connections: the health path
                            # answers 503 while a plugin install restarts the app in-process, and that
                            # must not get the pod killed (readiness takes it out of the Service meanwhile).
                            "livenessProbe": {
                                "tcpSocket": {"port": "http"},
                                "periodSeconds": 20,
                                "timeoutSeconds": 5,
                                "failureThreshold": 3,
                            },
                            "volumeMounts": mounts,
                            **container,
                        }
                    ],
                    "volumes": volumes,
                },
            },
        }
        if autoscaled:
            # The HPA owns the count: we do not state it. A count we set before (0 in maintenance) is
            # then dropped by server-side apply, so the Deployment comes back at 1 and the HPA takes it
            # to its minimum (an HPA does not scale a target that sits at 0). ignore_changes would keep 0.
            del spec["replicas"]
        return k8s.apps.v1.Deployment(
            f"{name}-{role}",
            metadata={
                "name": f"{args.app.app_name}-{role}",
                "namespace": args.namespace,
                "labels": pod_labels,
                # `kubectl scale` (the upgrade Jobs, or a person) takes `.spec.replicas` from us under
                # server-side apply, and the next `up` that changes the Deployment then fails on the
                # conflict (seen on the local control plane: tests/integration/test_jobs_day_two.py).
                # The declared count wins; an autoscaled role states none, so the HPA keeps its own.
                "annotations": {"pulumi.com/patchForce": "true"},
            },
            spec=spec,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=depends_on, custom_timeouts=rollout_timeouts(args.startup_timeout_seconds)
            ),
        )

    def _autoscaler(self, name: str, args: AppClusterArgs, target: k8s.apps.v1.Deployment) -> None:
        scaling = args.hpa
        assert scaling is not None  # called only for an autoscaled role
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata={
                "name": f"{args.app.app_name}-{REPLICAS}",
                "namespace": args.namespace,
                "labels": conv.labels(args.app.app_name, COMPONENT, REPLICAS),
            },
            spec={
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target.metadata.name},
                "minReplicas": scaling.min_replicas,
                "maxReplicas": scaling.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": scaling.target_cpu_percent},
                        },
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )


def rollout_timeouts(startup_seconds: int) -> pulumi.CustomTimeouts:
    """Pulumi's wait for a rollout covers the startup window the probes allow (the provider's default
    of 10 minutes would give up on a first start or migration that is still within it)."""
    window = f"{startup_seconds + ROLLOUT_MARGIN_SECONDS}s"
    return pulumi.CustomTimeouts(create=window, update=window)
