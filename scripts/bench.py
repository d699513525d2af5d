"""Time the offline toolbox on the prod-sized stack: `plan` and `check`, as a user runs them
(a fresh process each time, imports included), and the in-process run alone.

    .venv/bin/python scripts/bench.py [--runs N]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETTINGS = REPO / "scripts" / "bench" / "Pulumi.prod-sized.yaml"
sys.path.insert(0, str(REPO))


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def cli(command: str) -> None:
    subprocess.run([sys.executable, "-m", "tools.offline", command, "--stack", "prod-sized", "--config", str(SETTINGS)],
                   cwd=REPO, check=command != "check", capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

    from tools.offline import harness, policy, stackfile

    config, secret_keys = stackfile.read(SETTINGS)
    last: list = []

    def run_only():
        last[:] = [harness.run_program(REPO, "prod-sized", config, secret_keys)]

    rows = [
        ("plan (CLI, fresh process)", timed(lambda: cli("plan"), runs)),
        ("check (CLI, fresh process)", timed(lambda: cli("check"), runs)),
        ("program under mocks (in-process)", timed(run_only, runs)),
        ("policy evaluation (in-process)", timed(lambda: policy.evaluate(last[0]), runs)),
    ]
    print(f"prod-sized stack: {len(last[0].resources)} resources, {runs} runs each, median (min-max)")
    for name, times in rows:
        print(f"  {name:<36} {statistics.median(times):6.2f}s ({min(times):.2f}-{max(times):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
