"""The figures the README quotes, measured here and printed:

- `plan` and `check` on the prod stack as a user runs them (a fresh process each, imports included),
  and the in-process parts alone;
- `plan` against a flat program declaring the same resources with the same SDK classes
  (scripts/flat_program.py): CPU time of paired runs, side by side, and their ratio;
- what a Kubernetes-only stack no longer loads (pulumi_aws, pulumi_docker), in a fresh interpreter;
- the prod deploy's critical path against its longest inherent chain (scripts/bench_critical_path.py);
- the unit tier's wall and CPU time (`make test-unit`: `pytest -n auto tests --ignore=tests/integration
  --ignore=tests/runtime`) and the runtime tier's (`make test-runtime`), unless --no-tests.

    .venv/bin/python scripts/bench.py [--runs N] [--no-tests]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STACK = "prod"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def run_timed(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """One child process run to its end: its result, wall seconds, and the user + system CPU seconds
    of it and every process it waited for (pytest's xdist workers and their children included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu(args: list[str]) -> float:
    """User + system CPU seconds of one child process."""
    done, _, used = run_timed(args)
    done.check_returncode()
    return used


def toolbox(*args: str) -> list[str]:
    return [sys.executable, "-m", "tools.offline", *args]


def row(name: str, times: list[float], unit: str = "s") -> None:
    print(f"  {name:<46} {statistics.median(times):6.2f}{unit} ({min(times):.2f}-{max(times):.2f})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-tests", action="store_true", help="skip timing the unit tier")
    options = parser.parse_args()
    runs = options.runs

    import flat_program

    from tools.offline import harness, policy, stackfile

    config, secret_keys = stackfile.read(REPO / f"Pulumi.{STACK}.yaml")
    policy_config = json.loads((REPO / "policies" / "config" / f"{STACK}.json").read_text())
    last: list = []

    def run_only():
        last[:] = [harness.run_program(REPO, STACK, config, secret_keys)]

    print(f"{STACK} stack, {runs} runs each, median (min-max), {os.cpu_count()} cores")
    row(
        "plan (CLI, fresh process)",
        timed(
            lambda: subprocess.run(toolbox("plan", "--stack", STACK), cwd=REPO, check=True, capture_output=True), runs
        ),
    )
    row(
        "check (CLI, fresh process)",
        timed(
            lambda: subprocess.run(toolbox("check", "--stack", STACK), cwd=REPO, check=True, capture_output=True), runs
        ),
    )
    row("program under mocks (in-process)", timed(run_only, runs))
    row("policy evaluation (in-process)", timed(lambda: policy.evaluate(last[0], policy_config), runs))
    print(f"  ({len(last[0].resources)} resources, providers included)")

    with tempfile.TemporaryDirectory() as folder:
        flat = Path(folder)
        ours = flat_program.write(STACK, flat)
        theirs = harness.run_program(flat, STACK, {}, [])
        declared = sorted(r.urn for r in ours.resources if not r.type.startswith("pulumi:providers:"))
        assert declared == sorted(r.urn.replace(f"::{flat.name}::", "::appcluster::") for r in theirs.resources), (
            "the flat program declares other resources"
        )
        ours_cmd, flat_cmd = toolbox("plan", "--stack", STACK), toolbox("plan", "--program", str(flat))
        pairs = []
        for index in range(runs):
            # Alternate which goes first, so a machine getting busier or quieter favours neither.
            first, second = (ours_cmd, flat_cmd) if index % 2 == 0 else (flat_cmd, ours_cmd)
            a, b = cpu(first), cpu(second)
            pairs.append((a, b) if index % 2 == 0 else (b, a))
    print(
        f"\nplan CPU, appcluster vs a flat program of the same {len(declared)} resources and SDK classes (paired runs):"
    )
    row("appcluster (user+sys)", [a for a, _ in pairs])
    row("flat program (user+sys)", [b for _, b in pairs])
    row("ratio", [a / b for a, b in pairs], "x")

    def import_cpu(modules: str) -> float:
        return cpu([sys.executable, "-c", f"import pulumi{modules}"])

    saved = [import_cpu(", pulumi_aws, pulumi_docker") - import_cpu("") for _ in range(runs)]
    print("\nwhat a Kubernetes-only stack no longer loads:")
    row("import pulumi_aws, pulumi_docker (CPU)", saved)

    import bench_critical_path

    print()
    bench_critical_path.report(STACK)

    if not options.no_tests:
        for name, args in (
            ("unit tier", ["-n", "auto", "tests", "--ignore=tests/integration", "--ignore=tests/runtime"]),
            ("runtime tier", ["tests/runtime"]),
        ):
            done, wall, used = run_timed([sys.executable, "-m", "pytest", "-q", *args])
            # CPU beside wall: on a shared machine the wall time measures the neighbours too.
            print(f"\n{name}: {done.stdout.strip().splitlines()[-1]} (wall {wall:.1f}s, CPU user+sys {used:.1f}s)")
            if done.returncode:
                return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
