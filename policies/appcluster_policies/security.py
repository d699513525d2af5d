"""Security and reliability rules from the trusted scanners (see the anchors), as policies.

Levels are defaults; each environment sets its own in policies/config/<stack>.json.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import PolicyConfigSchema, Severity

from appcluster_policies.workloads import (
    DEPENDENCY_COMPONENTS,
    PVC_TYPE,
    WORKLOAD_TYPES,
    Report,
    Workload,
    app_clusters,
    labels,
    meta,
    plain,
)

# Resources that hold data (beyond our own Redis/database StatefulSets).
STATEFUL_TYPES = {
    PVC_TYPE,
    "kubernetes:core/v1:PersistentVolume",
    "aws:rds/instance:Instance",
    "aws:rds/proxy:Proxy",
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:elasticache/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:efs/fileSystem:FileSystem",
    "aws:efs/accessPoint:AccessPoint",
    "aws:secretsmanager/secret:Secret",
}
# Generated secrets: destroyed and made anew, they lock out what they guard (sessions, encrypted fields, data).
GENERATED_SECRET_TYPES = {"random:index/randomPassword:RandomPassword", "random:index/randomBytes:RandomBytes"}
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "APP_KEY", "PRIVATE_KEY", "DSN")


def _containers(args: ResourceValidationArgs) -> list[dict[str, Any]]:
    if args.resource_type not in WORKLOAD_TYPES:
        return []
    w = Workload(args.urn, args.resource_type, plain(args.props))
    return w.containers + list(w.pod.get("initContainers") or [])


def _pinned_images(args: ResourceValidationArgs, report: Report) -> None:
    for c in _containers(args):
        image = str(c.get("image", ""))
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        if "@sha256:" not in image and (not tag or tag == "latest"):
            report(f"container {c.get('name')}: image {image!r} is not pinned; use a version tag or a digest")


def _resources(args: ResourceValidationArgs, report: Report) -> None:
    for c in _containers(args):
        res = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if what not in (res.get(kind) or {}):
                    report(f"container {c.get('name')}: no {what} {kind[:-1]}")


def _probes(args: ResourceValidationArgs, report: Report) -> None:
    for c in (
        Workload(args.urn, args.resource_type, plain(args.props)).containers
        if args.resource_type in WORKLOAD_TYPES
        else []
    ):
        for probe in ("readinessProbe", "livenessProbe"):
            if not c.get(probe):
                report(f"container {c.get('name')}: no {probe}")


def _restricted(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in WORKLOAD_TYPES:
        return
    w = Workload(args.urn, args.resource_type, plain(args.props))
    pod_ctx = w.pod.get("securityContext") or {}
    if w.pod.get("automountServiceAccountToken") is not False:
        report("automountServiceAccountToken is not false (CKV_K8S_38)")
    for c in _containers(args):
        ctx = c.get("securityContext") or {}
        name = c.get("name")
        if ctx.get("privileged"):
            report(f"container {name}: privileged (CKV_K8S_16)")
        if ctx.get("allowPrivilegeEscalation") is not False:
            report(f"container {name}: allowPrivilegeEscalation is not false (CKV_K8S_20)")
        if "ALL" not in ((ctx.get("capabilities") or {}).get("drop") or []):
            report(f"container {name}: capabilities do not drop ALL (CKV_K8S_28/37)")
        seccomp = (ctx.get("seccompProfile") or pod_ctx.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            report(f"container {name}: no RuntimeDefault seccomp profile (CKV_K8S_31)")
        if not (ctx.get("runAsNonRoot") or pod_ctx.get("runAsNonRoot")):
            report(f"container {name}: may run as root (CKV_K8S_22/23; PSS restricted)")


def _no_secret_configmaps(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != "kubernetes:core/v1:ConfigMap":
        return
    for key, value in (plain(args.props).get("data") or {}).items():
        if any(word in key.upper() for word in SECRET_WORDS) or ("://" in str(value) and "@" in str(value)):
            report(f"ConfigMap key {key!r} looks like a secret or a URL with credentials; put it in a Secret")


def _protect_stateful(args: ResourceValidationArgs, report: Report) -> None:
    # Required unless the environment's config says otherwise: no config never relaxes it.
    if not (args.get_config() or {}).get("required", True):
        return
    stateful = args.resource_type in STATEFUL_TYPES or (
        args.resource_type == "kubernetes:apps/v1:StatefulSet"
        and labels(plain(args.props)).get("app.kubernetes.io/component") in DEPENDENCY_COMPONENTS
    )
    if stateful and not args.opts.protect:
        name = meta(plain(args.props)).get("name") or args.name
        report(f"{name} holds data but is not protected; set protect: true")
    if args.resource_type in GENERATED_SECRET_TYPES and not args.opts.protect:
        report(f"{args.name} is a generated secret; made anew it locks out what it guards: set protect: true")


def _pdb(args: StackValidationArgs, report: Report) -> None:
    pdbs = [plain(r.props) for r in args.resources if r.resource_type == "kubernetes:policy/v1:PodDisruptionBudget"]
    for cluster in app_clusters(args.resources):
        if cluster.instances <= 1:
            continue
        for w in cluster.workloads:
            pod_labels = (w.spec.get("template") or {}).get("metadata", {}).get("labels") or {}
            if not any(_selects((p.get("spec") or {}).get("selector") or {}, pod_labels) for p in pdbs):
                report(f"{w.name}: {cluster.instances} instances but no PodDisruptionBudget selects its pods", w.urn)


def _selects(selector: dict[str, Any], pod_labels: dict[str, Any]) -> bool:
    wanted = selector.get("matchLabels") or {}
    return bool(wanted) and all(pod_labels.get(k) == v for k, v in wanted.items())


def _network_policy(args: StackValidationArgs, report: Report) -> None:
    covered = {
        meta(plain(r.props)).get("namespace")
        for r in args.resources
        if r.resource_type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    }
    for r in args.resources:
        props = plain(r.props)
        if r.resource_type in WORKLOAD_TYPES and meta(props).get("namespace") not in covered:
            report(f"{meta(props).get('name')}: no NetworkPolicy in its namespace (CKV2_K8S_6)", r.urn)


def _resource(
    name: str,
    description: str,
    validate: ResourceValidation,
    level: EnforcementLevel,
    severity: Severity,
    schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        severity=severity,
        config_schema=schema,
    )


SECURITY_POLICIES = [
    _resource(
        "pinned-images",
        "Images carry a version tag or digest, never latest. Anchor: CKV_K8S_14/43, kube-linter latest-tag.",
        _pinned_images,
        EnforcementLevel.MANDATORY,
        Severity.HIGH,
    ),
    _resource(
        "container-resources",
        "CPU and memory requests and limits on every container. Anchor: CKV_K8S_10-13.",
        _resources,
        EnforcementLevel.MANDATORY,
        Severity.MEDIUM,
    ),
    _resource(
        "container-probes",
        "Readiness and liveness probes on every container. Anchor: CKV_K8S_8/9.",
        _probes,
        EnforcementLevel.MANDATORY,
        Severity.MEDIUM,
    ),
    _resource(
        "restricted-pod-security",
        "Pod Security Standards restricted: no privilege escalation, drop ALL, "
        "seccomp RuntimeDefault, non-root, no token automount. Anchor: CKV_K8S_20/22/23/28/31/37/38.",
        _restricted,
        EnforcementLevel.ADVISORY,
        Severity.MEDIUM,
    ),
    _resource(
        "no-secrets-in-configmaps",
        "No secret-looking keys or credential URLs in ConfigMaps. Anchor: CKV_K8S_35.",
        _no_secret_configmaps,
        EnforcementLevel.MANDATORY,
        Severity.HIGH,
    ),
    _resource(
        "protect-stateful",
        "Databases, Redis, shared volumes and generated secrets carry Pulumi protect where the stack requires it "
        "(config: required).",
        _protect_stateful,
        EnforcementLevel.MANDATORY,
        Severity.HIGH,
        PolicyConfigSchema(properties={"required": {"type": "boolean"}}),
    ),
    StackValidationPolicy(
        name="pdb-for-clusters",
        description="More than one instance has a PodDisruptionBudget. "
        "Anchor: Polaris missingPodDisruptionBudget, kube-linter pdb-*.",
        validate=_pdb,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.MEDIUM,
    ),
    StackValidationPolicy(
        name="network-policy-present",
        description="Every namespace with workloads has a NetworkPolicy. Anchor: CKV2_K8S_6.",
        validate=_network_policy,
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
    ),
]
