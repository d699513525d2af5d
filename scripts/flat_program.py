"""Write the flat program `make bench` compares appcluster with: the same resources (types, names,
parents, options, inputs) that a stack declares, each one SDK class call in one file, with no
config models, profiles or components. What appcluster costs above it is the cost of being a program
rather than a list.

    .venv/bin/python scripts/flat_program.py [--stack prod] OUT_DIR
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools.offline import harness, stackfile  # noqa: E402

SDKS = {"kubernetes": "pulumi_kubernetes", "aws": "pulumi_aws", "random": "pulumi_random"}


def sdk_class(type_: str) -> str:
    """kubernetes:apps/v1:Deployment -> pulumi_kubernetes.apps.v1.Deployment, aws:rds/instance:Instance ->
    pulumi_aws.rds.Instance, random:index/randomPassword:RandomPassword -> pulumi_random.RandomPassword."""
    package, module, name = type_.split(":")
    if package == "kubernetes":
        group, version = module.split("/")
        return f"{SDKS[package]}.{group.split('.')[0]}.{version}.{name}"
    if package == "aws":
        return f"{SDKS[package]}.{module.split('/')[0]}.{name}"
    return f"{SDKS[package]}.{name}"


def snake(key: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1), key).lower()


def write(stack: str, out: Path) -> harness.Run:
    config, secret_keys = stackfile.read(REPO / f"Pulumi.{stack}.yaml")
    run = harness.run_program(REPO, stack, config, secret_keys)
    names: dict[str, str] = {}
    lines = [
        "import pulumi",
        *sorted(
            {
                f"import {sdk_class(r.type).rsplit('.', 1)[0]}"
                for r in run.resources
                if r.custom and not r.type.startswith("pulumi:")
            }
        ),
    ]
    for index, r in enumerate(run.resources):
        if r.type.startswith("pulumi:providers:"):
            continue  # the default providers serve
        parent = f"parent={names[r.parent]}, " if r.parent in names else ""
        names[r.urn] = f"r{index}"
        if not r.custom:
            lines.append(
                f"r{index} = pulumi.ComponentResource({r.type!r}, {r.name!r}, None, "
                f"pulumi.ResourceOptions({parent.rstrip(', ')}))"
            )
            continue
        inputs = harness.reveal(r.inputs)
        kwargs = {
            snake(k): v
            for k, v in inputs.items()
            if not (r.type.startswith("kubernetes:") and k in ("apiVersion", "kind"))
        }
        lines.append(
            f"r{index} = {sdk_class(r.type)}({r.name!r}, opts=pulumi.ResourceOptions({parent}"
            f"protect={r.protect}), **{kwargs!r})"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "__main__.py").write_text("\n".join(lines) + "\n")
    return run


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", default="prod")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    run = write(args.stack, args.out)
    print(
        f"{args.out / '__main__.py'}: {sum(1 for r in run.resources if not r.type.startswith('pulumi:providers:'))} "
        "resources"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
