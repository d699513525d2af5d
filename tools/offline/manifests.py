"""What the Kubernetes provider does with manifests, done here for programs run under mocks.

No provider runs under mocks, so nobody decodes a ConfigFile, renders a Helm chart or names an
unnamed object; a policy would see nothing, or `metadata.name` None. This module does those things
the provider's way, so the offline check judges what the engine would show the pack.
Sources, pulumi-kubernetes v4.25.0 (provider/pkg): provider/yaml/v2/yaml.go (child names, default
namespace), provider/helm/v4/chart.go (release name, prefix), metadata/naming.go (auto-names).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]

# Components the provider builds itself (remote components): their children exist only in the engine.
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
CHART_V4 = "kubernetes:helm.sh/v4:Chart"
REMOTE_COMPONENTS = (CONFIG_FILE, CONFIG_GROUP, CHART_V4)

# Kinds that take no namespace (the provider asks the API server; offline, the built-in ones).
CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "IngressClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "RuntimeClass",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "VolumeAttachment",
}


class ManifestError(Exception):
    """A manifest or chart the provider would refuse too; one line, naming what and where."""


def decode(text: str, source: str = "YAML text") -> list[dict]:
    """Every object in a multi-document YAML text, `kind: *List` documents expanded."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ManifestError(f"{source}: not valid YAML{where}") from None
    objects: list[dict] = []
    for doc in docs:
        if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
            raise ManifestError(f"{source}: every document must be a Kubernetes object with apiVersion and kind")
        objects.extend(doc.get("items") or [] if str(doc["kind"]).endswith("List") else [doc])
    return objects


def type_token(obj: dict) -> str:
    """The Pulumi type the provider registers an object as (core objects live in `core/v1`)."""
    api = obj["apiVersion"]
    return f"kubernetes:{'core/' + api if '/' not in api else api}:{obj['kind']}"


def stable_hex(type_: str, name: str, length: int) -> str:
    """Stands in for the random part of a provider's auto-name: derived from the resource, so every
    run (and every render) names it the same."""
    return hashlib.sha256(f"{type_}::{name}".encode()).hexdigest()[:length]


def autoname(type_: str, name: str, inputs: dict) -> dict:
    """The inputs after the provider's Check: an object with neither name nor generateName gets
    `<logical name>-<8 hex>` and the `pulumi.com/autonamed` annotation. (The hex is random in the
    provider; here it derives from the logical name, so renders are reproducible.)"""
    if not type_.startswith("kubernetes:") or "apiVersion" not in inputs:
        return inputs
    meta = inputs.get("metadata") if isinstance(inputs.get("metadata"), dict) else {}
    if meta.get("name") or meta.get("generateName"):
        return inputs
    suffix = stable_hex(type_, name, 8)
    annotations = {**(meta.get("annotations") or {}), "pulumi.com/autonamed": "true"}
    return {**inputs, "metadata": {**meta, "name": f"{name}-{suffix}", "annotations": annotations}}


def children(type_: str, name: str, inputs: dict, cwd: Path) -> list[tuple[str, dict]]:
    """(logical name, object) of every resource a remote component's provider would register."""
    prefix = inputs.get("resourcePrefix", name)
    if type_ == CONFIG_FILE:
        objects = _read_files([inputs["file"]], cwd, glob_=False)
    elif type_ == CONFIG_GROUP:
        texts = inputs.get("yaml") or []
        objects = _read_files(inputs.get("files") or [], cwd, glob_=True)
        objects += [o for t in ([texts] if isinstance(texts, str) else texts) for o in decode(t)]
        objects += list(inputs.get("objs") or [])
    else:
        release = inputs.get("name") or name
        objects = helm_template(
            str(inputs["chart"]),
            release,
            inputs.get("namespace"),
            inputs.get("values") or {},
            inputs.get("version"),
            cwd,
            include_crds=not inputs.get("skipCrds"),
        )
    namespace = inputs.get("namespace") if type_ == CHART_V4 else None
    return [(_child_name(prefix, obj), obj) for obj in _with_namespace(objects, namespace or "default")]


def _child_name(prefix: str | None, obj: dict) -> str:
    meta = obj.get("metadata") or {}
    if not meta.get("name"):
        raise ManifestError(
            f"a {obj.get('kind')} in a ConfigGroup, ConfigFile or Chart has no metadata.name "
            "(the provider requires one there)"
        )
    name = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
    return f"{prefix}:{name}" if prefix else name


def _with_namespace(objects: Iterable[dict], namespace: str) -> list[dict]:
    crd_cluster_kinds = {
        ((o.get("spec") or {}).get("names") or {}).get("kind")
        for o in objects
        if o.get("kind") == "CustomResourceDefinition" and (o.get("spec") or {}).get("scope") == "Cluster"
    }
    out = []
    for obj in objects:
        meta = dict(obj.get("metadata") or {})
        if obj["kind"] not in CLUSTER_SCOPED | crd_cluster_kinds and not meta.get("namespace"):
            meta["namespace"] = namespace
        out.append({**obj, "metadata": meta})
    return out


def _read_files(patterns: list[str], cwd: Path, glob_: bool) -> list[dict]:
    objects: list[dict] = []
    for pattern in patterns:
        if "://" in pattern:
            raise ManifestError(f"{pattern}: the offline check reads local files only; save it next to the program")
        paths = sorted(glob.glob(str(cwd / pattern))) if glob_ and glob.has_magic(pattern) else [str(cwd / pattern)]
        for path in paths:
            try:
                text = Path(path).read_text()
            except OSError as error:
                raise ManifestError(f"{pattern}: cannot read it ({error.strerror or error})") from None
            objects += decode(text, pattern)
    return objects


def helm() -> str:
    """The helm CLI: $APPCLUSTER_HELM, else on PATH, else the one scripts/build-helm.sh built."""
    found = os.environ.get("APPCLUSTER_HELM") or shutil.which("helm")
    if not found:
        built = subprocess.run([str(REPO / "scripts" / "build-helm.sh"), "--bin"], capture_output=True, text=True)
        found = built.stdout.strip() if built.returncode == 0 else None
    if not found:
        raise ManifestError("rendering a Helm chart offline needs helm: run scripts/build-helm.sh, or put helm on PATH")
    return found


def helm_template(
    chart: str,
    release: str,
    namespace: str | None,
    values: dict,
    version: str | None,
    cwd: Path,
    include_crds: bool = True,
) -> list[dict]:
    """`helm template` on a local chart, as the provider runs it (client only, no cluster lookups)."""
    path = cwd / chart
    if not path.exists():
        raise ManifestError(
            f"Helm chart {chart!r}: the offline check renders local charts only (a folder or .tgz "
            "next to the program); `helm pull` it there first"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".json") as values_file:
        json.dump(values, values_file)
        values_file.flush()
        command = [
            helm(),
            "template",
            release,
            str(path),
            "--values",
            values_file.name,
            *(["--namespace", namespace] if namespace else []),
            *(["--version", version] if version else []),
            *(["--include-crds"] if include_crds else []),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ManifestError(f"Helm chart {chart!r}: helm template failed: {reason}")
    return decode(done.stdout, f"Helm chart {chart!r}")


def helm_template_invoke(json_opts: str, cwd: Path) -> list[dict]:
    """The `kubernetes:helm:template` invoke the v3 Chart makes (its options arrive as JSON)."""
    opts: dict[str, Any] = json.loads(json_opts)
    chart = opts.get("path") or opts.get("chart")
    if opts.get("repo") or (opts.get("fetch_opts") or {}).get("repo"):
        raise ManifestError(
            f"Helm chart {chart!r}: the offline check renders local charts only; `helm pull` it "
            "next to the program and pass path="
        )
    return helm_template(
        str(chart),
        opts.get("release_name") or "release",
        opts.get("namespace"),
        opts.get("values") or {},
        opts.get("version"),
        cwd,
        include_crds=not opts.get("skip_crd_rendering"),
    )
