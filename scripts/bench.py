"""Time the offline toolbox on the prod stack (Pulumi.prod.yaml): `plan` and `check`, as a user
runs them (a fresh process each time, imports included), and the in-process parts alone.

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
STACK = "prod"
SETTINGS = REPO / f"Pulumi.{STACK}.yaml"
POLICY_CONFIG = REPO / "policies" / "config" / f"{STACK}.json"
sys.path.insert(0, str(REPO))


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def cli(command: str) -> None:
    subprocess.run([sys.executable, "-m", "tools.offline", command, "--stack", STACK],
                   cwd=REPO, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

    import json

    from tools.offline import harness, policy, stackfile

    config, secret_keys = stackfile.read(SETTINGS)
    policy_config = json.loads(POLICY_CONFIG.read_text())
    last: list = []

    def run_only():
        last[:] = [harness.run_program(REPO, STACK, config, secret_keys)]

    rows = [
        ("plan (CLI, fresh process)", timed(lambda: cli("plan"), runs)),
        ("check (CLI, fresh process)", timed(lambda: cli("check"), runs)),
        ("program under mocks (in-process)", timed(run_only, runs)),
        ("policy evaluation (in-process)", timed(lambda: policy.evaluate(last[0], policy_config), runs)),
    ]
    print(f"{STACK} stack: {len(last[0].resources)} resources, {runs} runs each, median (min-max)")
    for name, times in rows:
        print(f"  {name:<36} {statistics.median(times):6.2f}s ({min(times):.2f}-{max(times):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
