"""Before any resource: what the stack needs that only the cluster can provide.

A missing storage class, a ReadWriteMany volume nobody can provision, an absent CSI driver or
ingress class otherwise shows up as a readiness timeout ten minutes into `pulumi up`. Here it is one
line naming the setting, what the cluster lacks and the fix, within seconds. Skipped in render
mode (no cluster) and under the offline toolbox's mocks (APPCLUSTER_OFFLINE).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import yaml

from config import ConfigError, StackConfig

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
    if storage.mode == "storage-class":
        problems += cluster.volume_problems(f"storage.storageClass", storage.storage_class, "ReadWriteMany",
                                            cfg.kubernetes.namespace)
    if storage.mode == "efs" and EFS_DRIVER not in cluster.names("csidrivers"):
        problems.append(f"storage.mode: 'efs' — the cluster has no CSIDriver {EFS_DRIVER}: install the AWS EFS CSI "
                        "driver (EKS add-on aws-efs-csi-driver)")
    for key, concern in (("redis", cfg.redis), ("database", cfg.database)):
        if concern.mode == "in-cluster" and not (key == "database" and cfg.database.engine == "sqlite"):
            problems += cluster.volume_problems(f"{key}.storageClass", concern.storage_class, "ReadWriteOnce",
                                                cfg.kubernetes.namespace)
    lb = cfg.load_balancer
    wanted_class = "alb" if lb.mode == "alb" else lb.ingress.class_name if lb.ingress.enabled else None
    if lb.mode == "alb" or lb.ingress.enabled:
        classes = cluster.names("ingressclasses")
        if wanted_class and wanted_class not in classes:
            problems.append(f"loadBalancer.ingress.className: {wanted_class!r} — the cluster has no IngressClass of that "
                            f"name (it has: {', '.join(sorted(classes)) or 'none'}): install that ingress controller"
                            + (" (AWS Load Balancer Controller)" if wanted_class == "alb" else "") + " or name another")
        if not wanted_class and not cluster.default_ingress_class():
            problems.append("loadBalancer.ingress.className: unset — the cluster has no default IngressClass: set "
                            f"className to one of {', '.join(sorted(classes)) or '(none installed)'}")
    if problems:
        raise ConfigError("; ".join(f"appcluster:{p}" for p in problems))


class _Cluster:
    def __init__(self, kubeconfig: Optional[str], context: Optional[str]):
        from kubernetes import client, config

        try:
            if kubeconfig and not Path(kubeconfig).expanduser().is_file():
                api = config.new_client_from_config_dict(yaml.safe_load(kubeconfig), context=context)
            else:
                api = config.new_client_from_config(
                    config_file=str(Path(kubeconfig).expanduser()) if kubeconfig else None, context=context)
        except Exception as error:  # the client raises several kinds for a bad or missing kubeconfig
            raise ConfigError(f"appcluster:kubernetes.kubeconfig: cannot load a kubeconfig ({error}) — set "
                              "kubernetes.kubeconfig/context, or renderYamlToDirectory to render without a cluster")
        self.server = api.configuration.host
        self.storage = client.StorageV1Api(api)
        self.core = client.CoreV1Api(api)
        self.networking = client.NetworkingV1Api(api)
        self._listed: dict[str, Optional[list]] = {}

    def _list(self, fn):
        """One list call per kind for the whole check (classes and volumes serve every claim)."""
        from kubernetes.client.exceptions import ApiException

        if fn.__name__ in self._listed:
            return self._listed[fn.__name__]
        try:
            self._listed[fn.__name__] = fn(_request_timeout=TIMEOUT_SECONDS).items
            return self._listed[fn.__name__]
        except ApiException as error:
            if error.status == 403:
                self._listed[fn.__name__] = None  # not ours to read: the apply will tell
                return None
            raise ConfigError(f"appcluster:kubernetes: the cluster at {self.server} answered {error.status} "
                              f"{error.reason}") from None
        except Exception as error:  # connection refused, TLS, timeout
            raise ConfigError(f"appcluster:kubernetes: cannot reach the cluster at {self.server} ({type(error).__name__})"
                              " — check kubernetes.kubeconfig/context, or set renderYamlToDirectory to render "
                              "without a cluster") from None

    def names(self, kind: str) -> set[str]:
        fn = {"csidrivers": self.storage.list_csi_driver, "ingressclasses": self.networking.list_ingress_class,
              "storageclasses": self.storage.list_storage_class}[kind]
        return {i.metadata.name for i in self._list(fn) or []}

    def default_ingress_class(self) -> bool:
        return any((i.metadata.annotations or {}).get("ingressclass.kubernetes.io/is-default-class") == "true"
                   for i in self._list(self.networking.list_ingress_class) or [])

    def volume_problems(self, key: str, class_name: Optional[str], mode: str, namespace: str) -> list[str]:
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
                claim is not None and claim.namespace == namespace)
            if (pv.spec.storage_class_name or "") == wanted and mode in (pv.spec.access_modes or []) and free:
                return []
        names = ", ".join(sorted(c.metadata.name for c in classes)) or "none"
        if class_name is None:
            return [f"{key}: unset — the cluster has no default StorageClass and no free {mode} volume without a class: "
                    f"set {key} to one of its classes ({names})"]
        return [f"{key}: {class_name!r} — the cluster has no StorageClass of that name (it has: {names}) and no free "
                f"{mode} volume of that class: install a provisioner for it or name another class"]
