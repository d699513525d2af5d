"""Write what a run declared as files: Kubernetes objects as manifests, the rest as JSON.

Secret values never reach a file: they are replaced by a placeholder (the Secret objects keep
their keys, so the manifests stay valid)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tools.offline.harness import Declared, Run, mask

PLACEHOLDER = "[secret]"


def _ints(value: Any) -> Any:
    # The wire format carries every number as a double; manifests want integers as integers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def manifest(resource: Declared) -> dict:
    body = _ints(mask(resource.inputs, PLACEHOLDER))
    ordered = {key: body[key] for key in ("apiVersion", "kind", "metadata") if key in body}
    ordered.update({k: v for k, v in body.items() if k not in ordered})
    return ordered


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-").lower()


def render(run: Run, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for index, resource in enumerate(run.resources):
        if not resource.custom:
            continue
        if resource.is_kubernetes:
            doc = manifest(resource)
            meta = doc.get("metadata", {})
            name = (
                f"{index:03d}-{doc['kind']}-{meta.get('namespace', 'cluster')}-{meta.get('name', resource.name)}.yaml"
            )
            path = out / _slug(name)
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
        else:
            path = out / _slug(f"{index:03d}-{resource.type}-{resource.name}.json")
            path.write_text(
                json.dumps(
                    {"type": resource.type, "name": resource.name, "inputs": _ints(mask(resource.inputs, PLACEHOLDER))},
                    indent=2,
                )
            )
        written.append(path)
    return written
