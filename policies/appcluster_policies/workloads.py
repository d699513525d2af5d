"""Reading app clusters out of declared Kubernetes resources, for the policies.

Works on any program's resources, not only ours: a workload belongs to the app cluster its app
label names, or that a Service or PodDisruptionBudget selecting its pods shares (see app_clusters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pulumi_policy.proxy import _is_unknown

from profiles import PROFILES

WORKLOAD_TYPES = {"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"}
HPA_TYPES = {"kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:autoscaling/v1:HorizontalPodAutoscaler"}
SECRET_TYPE = "kubernetes:core/v1:Secret"
PVC_TYPE = "kubernetes:core/v1:PersistentVolumeClaim"
# Our own stateful servers: dependencies of an app cluster, not instances of it.
DEPENDENCY_COMPONENTS = {"redis", "database"}
# Workloads of ours that carry the app's instance label without being app instances.
NOT_INSTANCES = DEPENDENCY_COMPONENTS | {"maintenance"}

# The apps' facts come from their profiles (profiles/, beside this pack): the secrets every instance
# must share (newest release) and where the shared volume goes. Config-driven profiles have none.
PROFILE_SECRETS = {p.name: tuple(s.env for s in p.releases[-1].secrets) for p in PROFILES.values() if p.releases}
DATA_PATHS = {p.name: p.data_path for p in PROFILES.values() if p.releases}
# What else gives away an app in a hand-written program: an image, or a variable only it reads.
RECOGNISED_BY = {"nocobase": ("nocobase/nocobase", ()), "new-api": ("new-api", ("SQL_DSN",))}


# What a validator reports through: the analyzer's callback, whose resource URN a resource policy leaves out.
Report = Callable[..., None]


class Unknown:
    """A value the engine does not know yet (during preview). Never equal to anything we look for."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


def fails(value: Any, wanted: Any) -> bool:
    """The value is known and is not what the rule wants (an unknown value fails nothing yet)."""
    return value is not UNKNOWN and value != wanted


def plain(value: Any) -> Any:
    """The analyzer hands policies read-only proxies that raise on unknown values; turn them into
    plain dicts and lists with unknowns as UNKNOWN, so a rule can skip what it cannot know yet
    instead of crashing or reporting a false violation."""
    if isinstance(value, Mapping):
        target = getattr(value, "_DictProxy__target", value)
        return {k: plain(v) for k, v in target.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        target = getattr(value, "_ListProxy__target", value)
        return [plain(v) for v in target]
    return UNKNOWN if _is_unknown(value) else value


def meta(props: dict[str, Any]) -> dict[str, Any]:
    return props.get("metadata") or {}


def labels(props: dict[str, Any]) -> dict[str, Any]:
    return meta(props).get("labels") or {}


@dataclass
class Workload:
    urn: str
    type: str
    props: dict[str, Any]

    @property
    def name(self) -> str:
        return meta(self.props).get("name") or self.urn.split("::")[-1]

    @property
    def spec(self) -> dict[str, Any]:
        return self.props.get("spec") or {}

    @property
    def pod(self) -> dict[str, Any]:
        return (self.spec.get("template") or {}).get("spec") or {}

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.pod.get("containers") or [])

    @property
    def replicas(self) -> int:
        value = self.spec.get("replicas", 1)
        return int(value) if isinstance(value, (int, float)) else 1

    def env(self, secret_data: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
        """Every env var of every container, by name (the last container wins on clashes). With the
        stack's Secrets, variables that envFrom brings in count too, as secretKeyRefs (an explicit
        `env` entry wins, as in Kubernetes)."""
        out: dict[str, dict[str, Any]] = {}
        for container in self.containers:
            for source in (container.get("envFrom") or []) if secret_data is not None else []:
                assert secret_data is not None
                name = ((source or {}).get("secretRef") or {}).get("name")
                for key in secret_data.get(str(name), {}):
                    out[f"{source.get('prefix') or ''}{key}"] = {
                        "name": key,
                        "valueFrom": {"secretKeyRef": {"name": name, "key": key}},
                    }
            for var in container.get("env") or []:
                if isinstance(var, dict) and "name" in var:
                    out[var["name"]] = var
        return out

    def processes(self) -> int:
        mode = (self.env().get("CLUSTER_MODE") or {}).get("value")
        if isinstance(mode, str) and mode.isdigit():
            return max(1, int(mode))
        return 1

    def profile(self) -> str | None:
        names = set(self.env())
        images = " ".join(str(c.get("image", "")) for c in self.containers)
        for profile, secrets in PROFILE_SECRETS.items():
            image, variables = RECOGNISED_BY.get(profile, (None, ()))
            if (set(secrets) | set(variables)) & names or (image and image in images):
                return profile
        return None


@dataclass
class AppCluster:
    name: str
    workloads: list[Workload] = field(default_factory=list)
    hpa_max: dict[str, int] = field(default_factory=dict)  # workload name -> HPA maxReplicas

    def replicas_of(self, w: Workload) -> int:
        return max(w.replicas, self.hpa_max.get(w.name, 0))

    @property
    def instances(self) -> int:
        names = {w.name for w in self.workloads}
        orphans = sum(n for target, n in self.hpa_max.items() if target not in names)
        return sum(self.replicas_of(w) * w.processes() for w in self.workloads) + orphans

    @property
    def profile(self) -> str | None:
        return next((p for p in (w.profile() for w in self.workloads) if p), None)


# Labels that name the application a workload belongs to, in the order they are trusted.
APP_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/name", "app", "k8s-app")


def cluster_key(w: Workload, pod_labels: dict[str, Any]) -> str:
    """Which app cluster a workload is part of: its app label (ours or the common ones), else the
    same app in the same namespace (so that splitting one app into several workloads never hides
    instances from the 32-instance count), else the workload alone."""
    for name in APP_LABELS:
        if isinstance(pod_labels.get(name), str):
            return str(pod_labels[name])
    profile = w.profile()
    return f"{meta(w.props).get('namespace') or 'default'}/{profile}" if profile else w.name


SERVICE_TYPE = "kubernetes:core/v1:Service"
PDB_TYPE = "kubernetes:policy/v1:PodDisruptionBudget"


def _selectors(resources: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, labels) of every Service and PodDisruptionBudget selector: pods one selector
    picks are served, or disrupted, as one app."""
    out = []
    for r in resources:
        if r.resource_type in (SERVICE_TYPE, PDB_TYPE):
            props = plain(r.props)
            spec = props.get("spec") or {}
            chosen = (
                spec.get("selector")
                if r.resource_type == SERVICE_TYPE
                else (spec.get("selector") or {}).get("matchLabels")
            )
            if isinstance(chosen, dict) and chosen and UNKNOWN not in chosen.values():
                out.append((meta(props).get("namespace") or "default", chosen))
    return out


def app_clusters(resources: Iterable[Any]) -> list[AppCluster]:
    """Group app workloads (everything but our own Redis/database servers) into clusters: by app
    label, then merged where one Service or PDB selector picks the pods of several groups."""
    resources = list(resources)
    grouped: dict[str, list[Workload]] = {}
    pods: list[tuple[str, str, dict[str, Any]]] = []  # (group key, namespace, pod labels)
    for r in resources:
        if r.resource_type not in WORKLOAD_TYPES:
            continue
        props = plain(r.props)
        lab = labels(props)
        if lab.get("app.kubernetes.io/component") in NOT_INSTANCES:
            continue
        w = Workload(r.urn, r.resource_type, props)
        key = cluster_key(w, lab)
        grouped.setdefault(key, []).append(w)
        pod_labels = ((w.spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        pods.append((key, meta(props).get("namespace") or "default", pod_labels))

    root = {key: key for key in grouped}

    def find(key: str) -> str:
        while root[key] != key:
            key = root[key]
        return key

    for namespace, selector in _selectors(resources):
        picked = [
            key
            for key, ns, pod_labels in pods
            if ns == namespace and all(pod_labels.get(k) == v for k, v in selector.items())
        ]
        for key in picked[1:]:
            root[find(key)] = find(picked[0])

    clusters: dict[str, AppCluster] = {}
    by_name: dict[str, AppCluster] = {}
    for key, workloads in grouped.items():
        cluster = clusters.setdefault(find(key), AppCluster(find(key)))
        cluster.workloads.extend(workloads)
        by_name.update({w.name: cluster for w in workloads})
    for r in resources:
        if r.resource_type in HPA_TYPES:
            props = plain(r.props)
            spec = props.get("spec") or {}
            target = (spec.get("scaleTargetRef") or {}).get("name")
            if isinstance(target, str) and target in by_name:
                by_name[target].hpa_max[target] = int(spec.get("maxReplicas") or 0)
            elif isinstance(spec.get("maxReplicas"), (int, float)):
                # An HPA on something we cannot see still counts against the limit on its own.
                name = f"hpa/{meta(props).get('name')}"
                clusters.setdefault(name, AppCluster(name)).hpa_max[str(target)] = int(spec["maxReplicas"])
    return list(clusters.values())


class UnknownData(dict[str, Any]):
    """A Secret's data built from outputs a preview does not know yet: every key reads as UNKNOWN."""

    def get(self, key: str, default: Any = None) -> Any:
        return UNKNOWN

    def __missing__(self, key: str) -> Any:
        return UNKNOWN


def secrets(resources: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Secret name -> its data as strings (stringData; policies see secret values unwrapped)."""
    out: dict[str, dict[str, Any]] = {}
    for r in resources:
        if r.resource_type == SECRET_TYPE:
            props = plain(r.props)
            if isinstance(meta(props).get("name"), str):  # a generateName'd Secret cannot be referenced by name
                data = props.get("stringData")
                out[meta(props)["name"]] = UnknownData() if data is UNKNOWN else dict(data or {})
    return out


def env_value(var: dict[str, Any], secret_data: dict[str, dict[str, str]]) -> str | None:
    """The value of an env var, following a secretKeyRef into a Secret of the same stack."""
    if "value" in var:
        return None if var["value"] is UNKNOWN else var["value"]
    ref = ((var.get("valueFrom") or {}).get("secretKeyRef")) or {}
    value: Any = (secret_data.get(str(ref.get("name"))) or {}).get(str(ref.get("key")))
    return None if value is UNKNOWN else value


def redis_db(url: str) -> int | None:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        return None
    path = parts.path.strip("/")
    return int(path) if path.isdigit() else 0
