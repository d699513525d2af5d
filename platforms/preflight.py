"""Before any resource: what the stack needs that only the cluster can provide, and what the live
namespace says the change would break.

A missing storage class, a ReadWriteMany volume nobody can provision, an absent CSI driver or
ingress class, a request no node can fit, a claim deleted behind Pulumi's back otherwise shows up as
a readiness timeout ten minutes into `pulumi up` (by then a Recreate primary is gone). A rename that
`protect` would refuse halfway is refused here, before it creates anything. Each is one line naming
the setting, what the cluster has and the fix, within seconds. Skipped in render mode (no cluster)
and under the offline toolbox's mocks (APPCLUSTER_OFFLINE).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from components.kubernetes import conventions as conv
from components.storage.contract import claim_name as shared_claim
from config import ConfigError, StackConfig
from config.base import Resources, quantity_value

EFS_DRIVER = "efs.csi.aws.com"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
TIMEOUT_SECONDS = 10


def check(cfg: StackConfig) -> None:
    kube = cfg.kubernetes
    if kube.render_yaml_to_directory or os.environ.get("APPCLUSTER_OFFLINE"):
        return
    cluster = _Cluster(kube.kubeconfig, kube.context)
    problems = []
    storage = cfg.storage
    assert storage is not None  # config requires it on Kubernetes
    if storage.mode == "storage-class":
        problems += cluster.volume_problems(
            "storage.storageClass", storage.storage_class, "ReadWriteMany", cfg.kubernetes.namespace
        )
    if storage.mode == "efs" and EFS_DRIVER not in cluster.names("csidrivers"):
        problems.append(
            f"storage.mode: 'efs' — the cluster has no CSIDriver {EFS_DRIVER}: install the AWS EFS CSI "
            "driver (EKS add-on aws-efs-csi-driver)"
        )
    for key, concern in (("redis", cfg.redis), ("database", cfg.database)):
        if concern.mode == "in-cluster" and not (key == "database" and cfg.database.engine == "sqlite"):
            problems += cluster.volume_problems(
                f"{key}.storageClass", concern.storage_class, "ReadWriteOnce", cfg.kubernetes.namespace
            )
    lb = cfg.load_balancer
    wanted_class = "alb" if lb.mode == "alb" else lb.ingress.class_name if lb.ingress.enabled else None
    if lb.mode == "alb" or lb.ingress.enabled:
        classes = cluster.names("ingressclasses")
        if wanted_class and wanted_class not in classes:
            problems.append(
                f"loadBalancer.ingress.className: {wanted_class!r} — the cluster has no IngressClass of that "
                f"name (it has: {', '.join(sorted(classes)) or 'none'}): install that ingress controller"
                + (" (AWS Load Balancer Controller)" if wanted_class == "alb" else "")
                + " or name another"
            )
        if not wanted_class and not cluster.default_ingress_class():
            problems.append(
                "loadBalancer.ingress.className: unset — the cluster has no default IngressClass: set "
                f"className to one of {', '.join(sorted(classes)) or '(none installed)'}"
            )
    problems += cluster.rename_problems(cfg)
    problems += cluster.fit_problems(_requests(cfg))
    problems += cluster.claim_problems(kube.namespace, _claims(cfg))
    if problems:
        raise ConfigError("; ".join(f"appcluster:{p}" for p in problems))


def _requests(cfg: StackConfig) -> dict[str, Resources]:
    """Each config key's resources for the pods that take them: the app's instances and in-cluster servers."""
    out = {"app.resources": cfg.app.resources}
    if cfg.redis.mode == "in-cluster":
        out["redis.resources"] = cfg.redis.resources
    if cfg.database.mode == "in-cluster" and cfg.database.engine != "sqlite":
        out["database.resources"] = cfg.database.resources
    return out


def _claims(cfg: StackConfig) -> dict[str, str]:
    """The claims the stack's data lives on, each with the config key it belongs to."""
    app = cfg.app_name
    out = {shared_claim(app): "storage"}
    if cfg.redis.mode == "in-cluster":
        out[conv.server_claim(app, "redis")] = "redis"
    if cfg.database.mode == "in-cluster" and cfg.database.engine != "sqlite":
        out[conv.server_claim(app, "database")] = "database"
        if cfg.database.log_database:
            out[conv.server_claim(f"{app}-log", "database")] = "database.logDatabase"
    return out


class _Cluster:
    def __init__(self, kubeconfig: str | None, context: str | None):
        from kubernetes import client, config

        try:
            if kubeconfig and not Path(kubeconfig).expanduser().is_file():
                api = config.new_client_from_config_dict(yaml.safe_load(kubeconfig), context=context)
            else:
                api = config.new_client_from_config(
                    config_file=str(Path(kubeconfig).expanduser()) if kubeconfig else None, context=context
                )
        except Exception as error:  # the client raises several kinds for a bad or missing kubeconfig
            raise ConfigError(
                f"appcluster:kubernetes.kubeconfig: cannot load a kubeconfig ({error}) — set "
                "kubernetes.kubeconfig/context, or renderYamlToDirectory to render without a cluster"
            ) from None
        self.server = api.configuration.host
        self.storage = client.StorageV1Api(api)
        self.core = client.CoreV1Api(api)
        self.networking = client.NetworkingV1Api(api)
        self._listed: dict[tuple[str, ...], list[Any] | None] = {}

    def _list(self, fn: Callable[..., Any], *args: str) -> list[Any] | None:
        """One list call per kind for the whole check (classes and volumes serve every claim)."""
        from kubernetes.client.exceptions import ApiException

        key = (fn.__name__, *args)
        if key in self._listed:
            return self._listed[key]
        try:
            self._listed[key] = fn(*args, _request_timeout=TIMEOUT_SECONDS).items
            return self._listed[key]
        except ApiException as error:
            if error.status == 403:
                self._listed[key] = None  # not ours to read: the apply will tell
                return None
            raise ConfigError(
                f"appcluster:kubernetes: the cluster at {self.server} answered {error.status} {error.reason}"
            ) from None
        except Exception as error:  # connection refused, TLS, timeout
            raise ConfigError(
                f"appcluster:kubernetes: cannot reach the cluster at {self.server} ({type(error).__name__})"
                " — check kubernetes.kubeconfig/context, or set renderYamlToDirectory to render "
                "without a cluster"
            ) from None

    def names(self, kind: str) -> set[str]:
        fn = {
            "csidrivers": self.storage.list_csi_driver,
            "ingressclasses": self.networking.list_ingress_class,
            "storageclasses": self.storage.list_storage_class,
        }[kind]
        return {i.metadata.name for i in self._list(fn) or []}

    def default_ingress_class(self) -> bool:
        return any(
            (i.metadata.annotations or {}).get("ingressclass.kubernetes.io/is-default-class") == "true"
            for i in self._list(self.networking.list_ingress_class) or []
        )

    def volume_problems(self, key: str, class_name: str | None, mode: str, namespace: str) -> list[str]:
        """A claim of this class and access mode can be satisfied: by the class's provisioner (the class
        exists; unset means the default class), or by a volume of that class waiting for it."""
        classes = self._list(self.storage.list_storage_class)
        if classes is None:
            return []
        if class_name is None and any((c.metadata.annotations or {}).get(DEFAULT_CLASS) == "true" for c in classes):
            return []
        if class_name is not None and class_name in {c.metadata.name for c in classes}:
            return []
        volumes = self._list(self.core.list_persistent_volume) or []
        wanted = class_name or ""
        for pv in volumes:
            claim = pv.spec.claim_ref
            # Waiting for any claim (Available, or Pending just after it was made), or reserved for one of ours.
            free = (claim is None and pv.status.phase in ("Available", "Pending")) or (
                claim is not None and claim.namespace == namespace
            )
            if (pv.spec.storage_class_name or "") == wanted and mode in (pv.spec.access_modes or []) and free:
                return []
        names = ", ".join(sorted(c.metadata.name for c in classes)) or "none"
        if class_name is None:
            return [
                f"{key}: unset — the cluster has no default StorageClass and no free {mode} volume without a class: "
                f"set {key} to one of its classes ({names})"
            ]
        return [
            f"{key}: {class_name!r} — the cluster has no StorageClass of that name (it has: {names}) and no free "
            f"{mode} volume of that class: install a provisioner for it or name another class"
        ]

    def rename_problems(self, cfg: StackConfig) -> list[str]:
        """A namespace this stack creates carries the app's name: another name there is a rename. Under
        `protect` its protected servers and claims can only be refused, but only once the new names'
        objects exist; the revert then deleted the live objects those had taken over. So refuse first."""
        kube = cfg.kubernetes
        if not (cfg.protect and kube.create_namespace):
            return []
        from kubernetes.client.exceptions import ApiException

        try:
            namespace = self.core.read_namespace(kube.namespace, _request_timeout=TIMEOUT_SECONDS)
        except ApiException as error:
            if error.status in (403, 404):
                return []
            raise ConfigError(
                f"appcluster:kubernetes: the cluster at {self.server} answered {error.status} {error.reason}"
            ) from None
        labels = (namespace.metadata.labels if namespace.metadata else None) or {}
        before = labels.get("app.kubernetes.io/instance")
        if labels.get("app.kubernetes.io/part-of") != conv.PART_OF or before in (None, cfg.app_name):
            return []
        return [
            f"app.name: {cfg.app_name!r} — namespace {kube.namespace!r} serves {before!r}, and with protect on a "
            "rename would replace its protected database, Redis and storage: set app.name back to "
            f"{before!r} (or deploy the new name into another namespace)"
        ]

    def fit_problems(self, requests: dict[str, Resources]) -> list[str]:
        """A request no schedulable node can hold keeps the pod Pending until the rollout times out, and
        the primary (Recreate) is already gone by then."""
        nodes = [
            n
            for n in self._list(self.core.list_node) or []
            if not n.spec.unschedulable
            and not any(t.effect in ("NoSchedule", "NoExecute") for t in n.spec.taints or [])
        ]
        if not nodes:
            return []  # none to judge by (or not ours to read), or nodes that come on demand
        problems = []
        for key, resources in requests.items():
            for kind in ("cpu", "memory"):
                wanted = getattr(resources, f"{kind}_request")
                largest = max(nodes, key=lambda n: quantity_value((n.status.allocatable or {}).get(kind, "0")))
                has = (largest.status.allocatable or {}).get(kind, "0")
                if quantity_value(wanted) > quantity_value(has):
                    problems.append(
                        f"{key}.{kind}Request: {wanted!r} — no node can fit it (the largest allocatable "
                        f"{kind} is {has}, node {largest.metadata.name}): lower the request or add a "
                        "bigger node"
                    )
        return problems

    def claim_problems(self, namespace: str, claims: dict[str, str]) -> list[str]:
        """A claim deleted behind Pulumi's back: Pulumi still counts it as there, so `up` says nothing
        while it is Terminating; once it is gone, its Retain volume stays Released, bound by uid to the
        claim that no longer exists, and a claim made again under the name stays Pending (or gets a new,
        empty volume from a provisioner)."""
        live = {
            c.metadata.name: c
            for c in self._list(self.core.list_namespaced_persistent_volume_claim, namespace) or []
            if c.metadata.name in claims
        }
        problems = []
        for name, claim in sorted(live.items()):
            if claim.metadata.deletion_timestamp is not None:
                # A finished Job's pod holds it too, as long as the pod exists.
                holders = sorted(
                    p.metadata.name
                    for p in self._list(self.core.list_namespaced_pod, namespace) or []
                    if any(
                        v.persistent_volume_claim and v.persistent_volume_claim.claim_name == name
                        for v in p.spec.volumes or []
                    )
                )
                problems.append(
                    f"{claims[name]}: claim {namespace}/{name} is being deleted (outside Pulumi) and stays "
                    f"Terminating while pods mount it ({', '.join(holders) or 'none left'}) — scale their "
                    "workloads to 0 and delete finished Jobs' pods so it goes, then rebind its volume as "
                    "this check will say"
                )
        for pv in self._list(self.core.list_persistent_volume) or []:
            ref = pv.spec.claim_ref
            if (
                ref is None
                or ref.namespace != namespace
                or ref.name not in claims
                or not ref.uid
                or pv.status.phase != "Released"
            ):
                continue
            if ref.name in live and live[ref.name].metadata.uid == ref.uid:
                continue
            again = " and made again (Pending)" if ref.name in live else ""
            problems.append(
                f"{claims[ref.name]}: volume {pv.metadata.name} holds the data of claim {namespace}/{ref.name}, "
                f"which was deleted{again}; it stays Released until it is rebound: `kubectl patch pv "
                f'{pv.metadata.name} -p \'{{"spec":{{"claimRef":{{"uid":null,"resourceVersion":null}}}}}}\'`, '
                "then `pulumi up --refresh`"
            )
        return problems
