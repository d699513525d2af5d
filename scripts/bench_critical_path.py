"""The deploy's critical path through the dependency graph, against its longest inherent chain.

Pulumi creates a resource as soon as everything it depends on exists, so a first `pulumi up` of a
stack takes as long as its heaviest chain of dependencies. That chain should be the one AWS imposes
(the RDS instance, or the ElastiCache replication group, after their own prerequisites): anything we
serialise behind it that need not be shows up as a ratio above 1.

The creation times are assumptions, not measurements (no AWS account here): typical figures for
each resource type, as AWS's consoles and the providers' default timeouts suggest them. Kubernetes
objects count a second each: their pods' own start is the app's, measured apart (the upgrade bench).

    .venv/bin/python scripts/bench_critical_path.py [--stack prod]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# Seconds to create, by resource type (assumed; see the module's docstring).
ASSUMED_SECONDS = {
    "aws:rds/instance:Instance": 900,  # Multi-AZ, encrypted: 10-20 min
    "aws:elasticache/replicationGroup:ReplicationGroup": 720,  # 2 nodes, Multi-AZ: 8-15 min
    "aws:rds/proxy:Proxy": 300,  # 3-8 min
    "aws:rds/proxyTarget:ProxyTarget": 60,  # registration; the target turns AVAILABLE within a minute or two
    "aws:rds/snapshot:Snapshot": 240,  # of a freshly created, nearly empty instance: 2-5 min
    "aws:efs/mountTarget:MountTarget": 90,
    "aws:efs/fileSystem:FileSystem": 10,
    "aws:iam/role:Role": 5,
    "aws:ec2/securityGroup:SecurityGroup": 5,
}
DEFAULT_AWS_SECONDS = 5  # subnet and parameter groups, rules, secrets, policies, access points, backup plans
KUBERNETES_SECONDS = 1
# The chains AWS imposes whatever the program does: these resources after their own prerequisites.
INHERENT = ("aws:rds/instance:Instance", "aws:elasticache/replicationGroup:ReplicationGroup")


def seconds(type_: str) -> int:
    if type_.startswith("kubernetes:"):
        return KUBERNETES_SECONDS
    if type_.startswith("aws:"):
        return ASSUMED_SECONDS.get(type_, DEFAULT_AWS_SECONDS)
    return 0  # components, providers, random values: no wait


def critical_paths(resources) -> dict[str, tuple[int, list[str]]]:
    """For each resource: when it is created at the earliest, and the chain that decides it."""
    by_urn = {r.urn: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in resources:
        children.setdefault(r.parent, []).append(r.urn)

    def expand(urn: str) -> list[str]:
        # Depending on a component is depending on everything under it.
        r = by_urn.get(urn)
        if r is None:
            return []
        if r.custom:
            return [urn]
        return [leaf for child in children.get(urn, []) for leaf in expand(child)]

    done: dict[str, tuple[int, list[str]]] = {}

    def finish(urn: str) -> tuple[int, list[str]]:
        if urn not in done:
            r = by_urn[urn]
            before = [finish(d) for dep in r.dependencies for d in expand(dep) if d != urn]
            start, chain = max(before, default=(0, []), key=lambda b: b[0])
            done[urn] = (start + seconds(r.type), [*chain, urn])
        return done[urn]

    for r in resources:
        finish(r.urn)
    return done


def ratio(resources) -> tuple[int, int]:
    """The critical path's length and the inherent chain's, in seconds."""
    paths = critical_paths(resources)
    inherent = [paths[r.urn][0] for r in resources if r.type in INHERENT]
    return max(p[0] for p in paths.values()), max(inherent, default=0)


def report(stack: str) -> None:
    from tools.offline import harness, stackfile

    config, secret_keys = stackfile.read(REPO / f"Pulumi.{stack}.yaml")
    run = harness.run_program(REPO, stack, config, secret_keys)
    paths = critical_paths(run.resources)
    by_urn = {r.urn: r for r in run.resources}
    total, chain = max(paths.values(), key=lambda p: p[0])
    inherent = max((paths[r.urn] for r in run.resources if r.type in INHERENT), key=lambda p: p[0], default=(0, []))
    if not inherent[0]:
        print(f"{stack}: no RDS instance or ElastiCache replication group, nothing to compare against")
        return
    print(f"{stack} deploy, assumed AWS creation times (scripts/bench_critical_path.py):")
    print(f"  critical path      {total / 60:6.1f} min")
    print(
        f"  inherent chain     {inherent[0] / 60:6.1f} min "
        f"({by_urn[inherent[1][-1]].type.split(':')[-1]} after its prerequisites)"
    )
    print(f"  ratio              {total / inherent[0]:6.3f}x (goal <= 1.05x)")
    print(
        "  the critical path: "
        + " -> ".join(f"{by_urn[u].name} ({seconds(by_urn[u].type)}s)" for u in chain if seconds(by_urn[u].type))
    )
    backup = json.loads(config.get("appcluster:backup", "{}"))
    if backup.get("beforeUpgrade", True):
        # The same stack without the pre-upgrade backup, to show what that backup costs a first install.
        without = {**config, "appcluster:backup": json.dumps({**backup, "beforeUpgrade": False})}
        length, base = ratio(harness.run_program(REPO, stack, without, secret_keys).resources)
        print(f"  without the pre-upgrade backup: {length / 60:.1f} min, {length / base:.3f}x")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", default="prod")
    report(parser.parse_args().stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
