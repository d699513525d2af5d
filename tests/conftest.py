"""Shared fixtures: run appcluster under Pulumi's mocks with a stack's config, plus overrides."""

from __future__ import annotations

import ast
import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.offline import harness, stackfile

REPO = Path(__file__).resolve().parents[1]
STACKS = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))
KUBERNETES_STACKS = [s for s in STACKS if "platform: docker" not in (REPO / f"Pulumi.{s}.yaml").read_text()]


def merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def stack_config(stack: str, overrides: dict | None = None, tmp: Path | None = None) -> tuple[dict, list]:
    """The stack's config as the engine passes it, with `overrides` (keys without `appcluster:`) merged in."""
    raw = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    for key, value in (overrides or {}).items():
        full = f"appcluster:{key}"
        current = raw["config"].get(full)
        raw["config"][full] = merge(current, value) if isinstance(value, dict) and isinstance(current, dict) else value
    path = (tmp or Path("/tmp")) / f"Pulumi.{stack}-test.yaml"
    path.write_text(yaml.safe_dump(raw))
    config, secret_keys = stackfile.read(path)
    if "secrets" in (overrides or {}):
        # Set as a team would, with `pulumi config set --secret`: the engine marks the key secret.
        secret_keys = sorted(set(secret_keys) | {"appcluster:secrets"})
    return config, secret_keys


def imports(path: Path, *, top_level: bool = False, run_time: bool = False) -> set[str]:
    """The modules a source file imports (for `from m import n`, both m and m.n): anywhere in it (a lazy import inside a function counts),
    or only in its module body (`top_level`), or only those that run (`run_time`: not what an
    `if TYPE_CHECKING:` block imports)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level else list(ast.walk(tree))
    if run_time:
        skipped = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        nodes = [n for n in nodes if id(n) not in skipped]
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            # `from components.redis import component` imports the submodule: name it as well.
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def copy_checkout(folder: Path) -> Path:
    """Exactly what a checkout holds: the files git tracks (a new package can't be forgotten here)."""
    root = folder / "appcluster"
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    (root / ".venv").symlink_to(REPO / ".venv")
    return root


_RUNS: dict[str, harness.Run] = {}


def run_program(program: Path, stack: str, config: dict, secret_keys: list) -> harness.Run:
    """harness.run_program, run once per (program, stack, config) in a session: most tests read the
    same few stacks, and a run is most of a test's time. Each caller gets its own copy to change."""
    key = json.dumps([str(program), stack, config, sorted(secret_keys)], sort_keys=True)
    if key not in _RUNS:
        _RUNS[key] = harness.run_program(program, stack, config, secret_keys)
    return copy.deepcopy(_RUNS[key])


@pytest.fixture
def run_stack(tmp_path):
    def run(stack: str = "dev", **overrides: Any) -> harness.Run:
        config, secret_keys = stack_config(stack, overrides, tmp_path)
        return run_program(REPO, stack, config, secret_keys)

    return run


def props(resource: harness.Declared) -> dict:
    """A resource's inputs as the provider receives them (secrets unwrapped)."""
    return harness.reveal(resource.inputs)


def spec(resource: harness.Declared) -> dict:
    return props(resource)["spec"]


def container(workload: harness.Declared) -> dict:
    """A workload's first container."""
    return spec(workload)["template"]["spec"]["containers"][0]


def one(run: harness.Run, type_: str) -> harness.Declared:
    found = run.of_type(type_)
    assert len(found) == 1, f"{len(found)} {type_}"
    return found[0]


def env_of(deployment: harness.Declared) -> dict[str, dict]:
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    return {var["name"]: var for var in container["env"]}


def k8s(run: harness.Run, kind: str, name: str) -> harness.Declared:
    """The Kubernetes object of that kind and metadata.name."""
    found = [
        r
        for r in run.resources
        if r.is_kubernetes and r.inputs["kind"] == kind and harness.reveal(r.inputs["metadata"]).get("name") == name
    ]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def secret_data(run: harness.Run, name: str) -> dict[str, str]:
    return harness.reveal(k8s(run, "Secret", name).inputs["stringData"])


__all__ = [
    "KUBERNETES_STACKS",
    "REPO",
    "STACKS",
    "container",
    "copy_checkout",
    "env_of",
    "imports",
    "json",
    "k8s",
    "merge",
    "one",
    "props",
    "run_program",
    "secret_data",
    "spec",
    "stack_config",
]
