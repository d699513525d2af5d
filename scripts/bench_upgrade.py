"""The `dev`-shape upgrade's downtime on the local control plane with our Jobs running, and what of it
is ours: a fresh control plane (scripts/cluster.sh, the job runner included), the dev stack deployed
at one version, then `pulumi up` to the next while a watcher polls the API server.

Downtime: from the first serving instance stopping (a pod of the app terminating or not Ready) until
every role is Ready again at the new version. On kwok pods start at once, so the whole of it is ours:
the Jobs (scheduled, their scripts run by tools/jobrunner.py) and Pulumi's awaits between the steps.
A real cluster adds the image pulls and the new version's start (and migration) on top.

    .venv/bin/python scripts/bench_upgrade.py [--runs N]      (make bench-upgrade)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import copy_checkout  # noqa: E402
from tests.integration.conftest import Cluster, Project, _free_port_pair, deploy_settings, provide_volumes  # noqa: E402

NS = "bench-upgrade"
VERSIONS = ["2.2.13", "2.2.14", "2.2.15", "2.2.16", "2.2.17", "2.2.18"]
POLL = 0.1


class Watch(threading.Thread):
    """Polls the app's pods and the upgrade Jobs; records when each milestone is first seen."""

    def __init__(self, cluster: Cluster, image: str, roles: int):
        super().__init__(daemon=True)
        self.cluster, self.image, self.roles = cluster, image, roles
        self.seen: dict[str, float] = {}
        self.done = threading.Event()

    def mark(self, what: str) -> None:
        self.seen.setdefault(what, time.monotonic())

    def run(self) -> None:
        while not self.done.is_set():
            pods = self.cluster.core.list_namespaced_pod(NS, label_selector="app.kubernetes.io/component=app").items
            ready = [
                p
                for p in pods
                if not p.metadata.deletion_timestamp
                and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
            ]
            if len(ready) < self.roles:
                self.mark("first instance stopped")
            new = [p for p in ready if p.spec.containers[0].image == self.image]
            for role in ("primary", "replicas"):
                if any(p.metadata.labels.get("appcluster.io/role") == role for p in new):
                    self.mark(f"{role} Ready at the new version")
            if "first instance stopped" in self.seen and len(new) == self.roles == len(ready):
                self.mark("every role Ready again")
            for j in self.cluster.batch.list_namespaced_job(NS).items:
                kind = (
                    "stop"
                    if "-stop-before-" in j.metadata.name
                    else "resume"
                    if "-resume-after-" in j.metadata.name
                    else ""
                )
                if kind and j.metadata.name.endswith(self.image.rsplit(":", 1)[1].replace(".", "-")):
                    self.mark(f"{kind} Job created")
                    if j.status.succeeded:
                        self.mark(f"{kind} Job complete")
            time.sleep(POLL)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3, help=f"upgrades in a row (at most {len(VERSIONS) - 1})")
    args = parser.parse_args()
    built = subprocess.run([str(REPO / "scripts" / "build-cluster.sh"), "--bin"], capture_output=True, text=True)
    engine = subprocess.run([str(REPO / "scripts" / "build-engine.sh"), "--bin"], capture_output=True, text=True)
    if built.returncode or engine.returncode:
        print("build the engine and the control plane first: make engine cluster-build", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-upgrade-") as tmp:
        env = {**os.environ, "CLUSTER_DIR": f"{tmp}/cluster", "CLUSTER_PORT": str(_free_port_pair())}
        script = str(REPO / "scripts" / "cluster.sh")
        up = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=180)
        try:
            if up.returncode:
                print(up.stderr, file=sys.stderr)
                return 1
            cluster = Cluster(Path(up.stdout.strip()), Path(built.stdout.strip()))
            project = Project(copy_checkout(Path(tmp)), Path(engine.stdout.strip()))
            deploy_settings(
                project,
                "dev",
                cluster,
                NS,
                secrets={"nocobasePkgUsername": "bench", "nocobasePkgPassword": "p" * 24},
                **{"app.image": f"nocobase/nocobase:{VERSIONS[0]}"},
            )
            provide_volumes(project, "dev", cluster)
            project.pulumi("up", "--yes", "--skip-preview")
            rows: dict[str, list[float]] = {}
            for version in VERSIONS[1 : args.runs + 1]:
                image = f"nocobase/nocobase:{version}"
                project.pulumi("config", "set", "--path", "appcluster:app.image", image)
                watch = Watch(cluster, image, roles=2)
                start = time.monotonic()
                watch.start()
                project.pulumi("up", "--yes", "--skip-preview")
                total = time.monotonic() - start
                time.sleep(1)
                watch.done.set()
                watch.join()
                t = {k: v - start for k, v in watch.seen.items()}
                down = t["every role Ready again"] - t["first instance stopped"]
                print(
                    f"{VERSIONS[VERSIONS.index(version) - 1]} -> {version}: `pulumi up` {total:.1f}s, downtime {down:.1f}s"
                )
                for what, at in sorted(t.items(), key=lambda kv: kv[1]):
                    print(f"  +{at:5.1f}s  {what}")
                for name, value in (
                    ("pulumi up", total),
                    ("downtime", down),
                    ("stop Job (created to complete)", t["stop Job complete"] - t["stop Job created"]),
                    ("resume Job (created to complete)", t["resume Job complete"] - t["resume Job created"]),
                ):
                    rows.setdefault(name, []).append(value)
            print(
                f"\ndev-shape upgrade on the control plane, {len(rows['downtime'])} runs (median, min-max); "
                "pods start at once here, so all of the downtime is ours (Jobs, scripts, Pulumi's awaits):"
            )
            for name, values in rows.items():
                print(f"  {name:<36} {statistics.median(values):5.1f}s ({min(values):.1f}-{max(values):.1f})")
        finally:
            subprocess.run([script, "down"], env=env, capture_output=True, timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
