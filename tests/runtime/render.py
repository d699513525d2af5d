"""What a stack renders, read as a process would get it: a container's env with every secretKeyRef
resolved from the rendered Secrets, a workload's args and scripts, a Secret's values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from tests.conftest import REPO, merge
from tools.offline import harness, stackfile


@dataclass
class Rendered:
    run: harness.Run

    def objects(self, kind: str) -> dict[str, dict]:
        found = {}
        for r in self.run.resources:
            if r.is_kubernetes and r.inputs["kind"] == kind:
                body = harness.reveal(r.inputs)
                found[body["metadata"]["name"]] = body
        return found

    def object(self, kind: str, name: str) -> dict:
        found = self.objects(kind)
        assert name in found, f"no {kind} {name} rendered; there are {sorted(found)}"
        return found[name]

    @property
    def secrets(self) -> dict[str, dict[str, str]]:
        return {name: body.get("stringData", {}) for name, body in self.objects("Secret").items()}

    def pod(self, kind: str, name: str) -> dict:
        spec = self.object(kind, name)["spec"]
        if kind == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        return spec["template"]["spec"]

    def container(self, kind: str, name: str) -> dict:
        return self.pod(kind, name)["containers"][0]

    def env(self, kind: str, name: str) -> dict[str, str]:
        """The container's environment as the kubelet gives it: literals, and each secretKeyRef's value."""
        out = {}
        for var in self.container(kind, name).get("env", []):
            if "value" in var:
                out[var["name"]] = var["value"]
            elif "fieldRef" in var["valueFrom"]:
                path = var["valueFrom"]["fieldRef"]["fieldPath"]
                assert path == "metadata.name", f"{name}: env {var['name']} from {path}, which the tier cannot resolve"
                out[var["name"]] = f"{name}-0"  # the pod's name
            else:
                ref = var["valueFrom"]["secretKeyRef"]
                assert ref["name"] in self.secrets, (
                    f"{name}: env {var['name']} refers to Secret {ref['name']}, not rendered"
                )
                data = self.secrets[ref["name"]]
                assert ref["key"] in data, f"{name}: env {var['name']} refers to {ref['name']}.{ref['key']}, not in it"
                out[var["name"]] = data[ref["key"]]
        return out


def render(stack: str, tmp: Path, drop: tuple[str, ...] = (), **overrides: Any) -> Rendered:
    """The stack run under mocks, with `drop` (top-level keys without `appcluster:`) removed from its
    settings file and `overrides` merged in."""
    raw = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    for key in drop:
        raw["config"].pop(f"appcluster:{key}")
    for key, value in overrides.items():
        full = f"appcluster:{key}"
        current = raw["config"].get(full)
        raw["config"][full] = merge(current, value) if isinstance(value, dict) and isinstance(current, dict) else value
    path = tmp / f"Pulumi.{stack}-runtime.yaml"
    path.write_text(yaml.safe_dump(raw))
    config, secret_keys = stackfile.read(path)
    if "secrets" in overrides:
        secret_keys = sorted(set(secret_keys) | {"appcluster:secrets"})
    return Rendered(harness.run_program(REPO, stack, config, secret_keys))


def relocate(url: str, host: str, port: int) -> str:
    """The URL pointing at a local server instead of the in-cluster Service: only host and port change."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
