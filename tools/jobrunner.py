"""Run the pods of Jobs on this machine, for the local control plane, where kwok runs no container.

kwok's stages (scripts/build-cluster.sh) leave every pod a Job owns Running and never complete it.
This process watches for such pods and runs each container's command here, as a kubelet would: its
env (Secret and ConfigMap values included), a real kubectl authenticated with a token the TokenRequest
API issues for the pod's own ServiceAccount (bound to the pod, so RBAC is the Job's), the container's
runAsUser. The command's real exit status becomes the pod's phase (Succeeded/Failed, exit code and
the output's last lines in the container status), and the Job controller decides the Job from it.

A container that needs what this machine cannot give it (a volume other than scratch at /tmp, no
command, an env source it cannot resolve) fails its pod with the reason: nothing completes unrun.

    python3 tools/jobrunner.py --cluster-dir DIR --port PORT --kubectl PATH

Standard library only: scripts/cluster.sh starts it with the system python3. The output of each run
goes to DIR/jobs/<namespace>.<pod>.log; this process's own to its stdout. Each run's home is a
folder of its own in a temp folder the runner removes when it stops.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

# Marks a pod this runner ran (and how it ended): the integration tests check every finished Job pod has it.
RAN_ANNOTATION = "appcluster.io/job-runner"
POLL_SECONDS = 0.25
# A kubelet keeps no more than this of a container's termination message; so do we.
MESSAGE_BYTES = 4096
NOBODY = 65534


class CannotRun(Exception):
    """What this machine cannot provide for a container: the pod fails with this as its reason."""


class Api:
    def __init__(self, server: str, ca: Path, token: str):
        self.server, self.token = server, token
        self.context = ssl.create_default_context(cafile=str(ca))

    def call(self, method: str, path: str, body: dict | None = None, content_type: str = "application/json") -> dict:
        request = urllib.request.Request(
            self.server + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": content_type,
                "Accept": "application/json",
            },
        )
        with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
            return json.load(response)

    def patch(self, path: str, body: dict) -> dict:
        return self.call("PATCH", path, body, "application/strategic-merge-patch+json")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def owned_by_job(pod: dict) -> bool:
    return any(o.get("kind") == "Job" for o in pod["metadata"].get("ownerReferences", []))


class Runner:
    def __init__(self, api: Api, server: str, ca: Path, kubectl: Path, logs: Path, scratch: Path):
        """`scratch`: a folder the pods' users may enter (the cluster folder is root's alone), holding
        this kubectl and the CA certificate, and each run's home."""
        self.api, self.server, self.logs, self.scratch = api, server, logs, scratch
        self.kubectl, self.ca = scratch / "kubectl", scratch / "ca.crt"
        try:
            os.link(kubectl, self.kubectl)
        except OSError:
            shutil.copy2(kubectl, self.kubectl)
        shutil.copyfile(ca, self.ca)
        self.ca.chmod(0o644)
        self.started: set[str] = set()
        self.running: set[subprocess.Popen] = set()

    def loop(self) -> None:
        query = urllib.parse.urlencode({"fieldSelector": "status.phase=Running"})
        while True:
            try:
                pods = self.api.call("GET", f"/api/v1/pods?{query}")["items"]
            except (urllib.error.URLError, OSError) as e:  # the API server restarting: try again
                print(f"jobrunner: listing pods: {e}", flush=True)
                time.sleep(1)
                continue
            for pod in pods:
                meta = pod["metadata"]
                if (
                    owned_by_job(pod)
                    and meta["uid"] not in self.started
                    and not meta.get("deletionTimestamp")
                    and RAN_ANNOTATION not in meta.get("annotations", {})
                ):
                    self.started.add(meta["uid"])
                    threading.Thread(target=self.run_pod, args=(pod,), daemon=True).start()
            time.sleep(POLL_SECONDS)

    def run_pod(self, pod: dict) -> None:
        try:
            self.run_containers(pod)
        except Exception:
            error = traceback.format_exc()
            print(f"jobrunner: {pod['metadata']['namespace']}/{pod['metadata']['name']}: {error}", flush=True)
            self.finish(pod, [(pod["spec"]["containers"][0], 1, "JobRunnerError")], now(), error[-MESSAGE_BYTES:])

    def run_containers(self, pod: dict) -> None:
        meta = pod["metadata"]
        ns, name = meta["namespace"], meta["name"]
        log = self.logs / f"{ns}.{name}.log"
        started = now()
        results: list[tuple[dict, int, str]] = []
        with log.open("w") as out, tempfile.TemporaryDirectory(prefix=f"{name}-", dir=self.scratch) as scratch:
            os.chmod(scratch, 0o755)
            for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]:
                out.write(f"==> {container['name']}\n")
                out.flush()
                try:
                    code = self.run_container(pod, container, Path(scratch), out)
                    reason = "Completed" if code == 0 else "Error"
                except CannotRun as e:
                    out.write(f"jobrunner: cannot run this container here: {e}\n")
                    code, reason = 127, "JobRunnerCannotRun"
                results.append((container, code, reason))
                if code != 0:
                    break
        code = results[-1][1]
        tail = log.read_bytes()[-MESSAGE_BYTES:].decode(errors="replace")
        print(f"jobrunner: {ns}/{name} exited {code}", flush=True)
        self.finish(pod, results, started, tail)

    def run_container(self, pod: dict, container: dict, scratch: Path, out) -> int:
        spec, meta = pod["spec"], pod["metadata"]
        command = container.get("command", []) + container.get("args", [])
        if not container.get("command"):
            raise CannotRun(f"container {container['name']} has no command: its image's entrypoint does not exist here")
        token_volume = self.check_volumes(spec, container)
        env = self.environment(pod, container)
        home = scratch / container["name"]
        home.mkdir()
        uid = (container.get("securityContext") or {}).get(
            "runAsUser", (spec.get("securityContext") or {}).get("runAsUser", NOBODY)
        )
        gid = (container.get("securityContext") or {}).get(
            "runAsGroup", (spec.get("securityContext") or {}).get("runAsGroup", uid)
        )
        bin_dir = home / "bin"
        bin_dir.mkdir()
        (bin_dir / "kubectl").symlink_to(self.kubectl)
        kubeconfig = home / "kubeconfig"
        kubeconfig.write_text(self.kubeconfig(pod, token_volume))
        if os.geteuid() == 0:
            for path in (home, bin_dir, kubeconfig):
                os.chown(path, uid, gid)
        kubeconfig.chmod(0o600)
        env.setdefault("HOME", str(home))
        # The in-cluster configuration kubectl would find, as a kubeconfig file: never the runner's own.
        env.update(KUBECONFIG=str(kubeconfig), PATH=f"{bin_dir}:/usr/local/bin:/usr/bin:/bin")
        # As the container's user where the runner may switch users; a non-root runner runs them as itself.
        as_user = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"] if os.geteuid() == 0 else []
        process = subprocess.Popen(
            [*as_user, *command],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.running.add(process)
        try:
            while True:
                try:
                    return process.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
                if self.gone(meta):  # deleted (the Job's deadline, a `kubectl delete`): stop as a kubelet would
                    os.killpg(process.pid, signal.SIGTERM)
                    try:
                        return process.wait(timeout=spec.get("terminationGracePeriodSeconds", 30))
                    except subprocess.TimeoutExpired:
                        os.killpg(process.pid, signal.SIGKILL)
                        return process.wait()
        finally:
            self.running.discard(process)

    def stop(self) -> None:
        """The runner stops: so do the scripts it started (their pods stay Running, as on a dead node)."""
        for process in list(self.running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def gone(self, meta: dict) -> bool:
        try:
            pod = self.api.call("GET", f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}")
        except urllib.error.HTTPError as e:
            return e.code == 404
        except (urllib.error.URLError, OSError):
            return False
        return pod["metadata"]["uid"] != meta["uid"] or bool(pod["metadata"].get("deletionTimestamp"))

    @staticmethod
    def check_volumes(spec: dict, container: dict) -> str | None:
        """Scratch space at /tmp is this machine's /tmp; the ServiceAccount token volume becomes the
        kubeconfig. Anything else (a claim, a Secret's files) has no counterpart here."""
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        token_volume = None
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            if "emptyDir" in volume and mount["mountPath"] == "/tmp":
                continue
            sources = (volume.get("projected") or {}).get("sources", [])
            if any("serviceAccountToken" in s for s in sources):
                token_volume = mount["name"]
                continue
            kind = next((k for k in volume if k != "name"), "?")
            raise CannotRun(
                f"container {container['name']} mounts volume {mount['name']} ({kind}) at "
                f"{mount['mountPath']}, which this machine does not have (the runtime tier runs such Jobs)"
            )
        return token_volume

    def environment(self, pod: dict, container: dict) -> dict[str, str]:
        ns = pod["metadata"]["namespace"]
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                data = self.secret(ns, source["secretRef"]["name"])
            elif "configMapRef" in source:
                data = self.config_map(ns, source["configMapRef"]["name"])
            else:
                raise CannotRun(f"envFrom source {sorted(source)} is not supported")
            env.update({source.get("prefix", "") + k: v for k, v in data.items()})
        fields = {
            "metadata.name": pod["metadata"]["name"],
            "metadata.namespace": ns,
            "spec.nodeName": pod["spec"].get("nodeName", ""),
            "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
            "status.podIP": pod.get("status", {}).get("podIP", ""),
        }
        for var in container.get("env", []):
            if "value" in var or "valueFrom" not in var:
                env[var["name"]] = var.get("value", "")
                continue
            source = var["valueFrom"]
            if "secretKeyRef" in source or "configMapKeyRef" in source:
                ref = source.get("secretKeyRef") or source["configMapKeyRef"]
                data = self.secret(ns, ref["name"]) if "secretKeyRef" in source else self.config_map(ns, ref["name"])
                if ref["key"] not in data:
                    raise CannotRun(f"env {var['name']}: key {ref['key']} is not in {ref['name']}")
                env[var["name"]] = data[ref["key"]]
            elif "fieldRef" in source and source["fieldRef"]["fieldPath"] in fields:
                env[var["name"]] = fields[source["fieldRef"]["fieldPath"]]
            else:
                raise CannotRun(f"env {var['name']}: source {json.dumps(source)} is not supported")
        return env

    def secret(self, ns: str, name: str) -> dict[str, str]:
        try:
            data = self.api.call("GET", f"/api/v1/namespaces/{ns}/secrets/{name}").get("data", {})
        except urllib.error.HTTPError as e:
            raise CannotRun(f"Secret {ns}/{name}: {e.code} {e.reason}") from e
        return {k: base64.b64decode(v).decode() for k, v in data.items()}

    def config_map(self, ns: str, name: str) -> dict[str, str]:
        try:
            return self.api.call("GET", f"/api/v1/namespaces/{ns}/configmaps/{name}").get("data", {})
        except urllib.error.HTTPError as e:
            raise CannotRun(f"ConfigMap {ns}/{name}: {e.code} {e.reason}") from e

    def kubeconfig(self, pod: dict, token_volume: str | None) -> str:
        """What the pod's mounted token would give kubectl in the cluster: its ServiceAccount, its
        namespace. Without the token volume (automountServiceAccountToken false), no credentials."""
        meta, spec = pod["metadata"], pod["spec"]
        user: dict = {}
        if token_volume is not None:
            account = spec.get("serviceAccountName", "default")
            request = {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {
                    "expirationSeconds": 3600,
                    "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]},
                },
            }
            try:
                issued = self.api.call(
                    "POST", f"/api/v1/namespaces/{meta['namespace']}/serviceaccounts/{account}/token", request
                )
            except urllib.error.HTTPError as e:
                raise CannotRun(f"a token for ServiceAccount {account}: {e.code} {e.reason}") from e
            user = {"token": issued["status"]["token"]}
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "in-cluster",
                "clusters": [
                    {"name": "in-cluster", "cluster": {"server": self.server, "certificate-authority": str(self.ca)}}
                ],
                "users": [{"name": "pod", "user": user}],
                "contexts": [
                    {
                        "name": "in-cluster",
                        "context": {"cluster": "in-cluster", "user": "pod", "namespace": meta["namespace"]},
                    }
                ],
            }
        )

    def finish(self, pod: dict, results: list[tuple[dict, int, str]], started: str, tail: str) -> None:
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        code, finished = results[-1][1], now()
        statuses: dict[str, list] = {"initContainerStatuses": [], "containerStatuses": []}
        ran = {c["name"]: (code_, reason) for c, code_, reason in results}
        for field, containers in (
            ("initContainerStatuses", pod["spec"].get("initContainers", [])),
            ("containerStatuses", pod["spec"]["containers"]),
        ):
            for c in containers:
                exit_code, reason = ran.get(c["name"], (1, "NotRun"))
                terminated = {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": finished}
                if exit_code != 0:
                    terminated["message"] = tail
                statuses[field].append(
                    {
                        "name": c["name"],
                        "image": c["image"],
                        "ready": False,
                        "restartCount": 0,
                        "started": False,
                        "state": {"terminated": terminated},
                    }
                )
        not_ready = [
            {"type": t, "status": "False", "lastTransitionTime": finished, "reason": "PodCompleted"}
            for t in ("Ready", "ContainersReady")
        ]
        try:
            self.api.patch(path, {"metadata": {"annotations": {RAN_ANNOTATION: f"exit {code} at {finished}"}}})
            self.api.patch(
                path + "/status",
                {
                    "status": {
                        "phase": "Succeeded" if code == 0 else "Failed",
                        "conditions": not_ready,
                        **{k: v for k, v in statuses.items() if v},
                    }
                },
            )
        except urllib.error.HTTPError as e:
            if e.code != 404:  # a pod deleted meanwhile has nothing left to report to
                print(
                    f"jobrunner: {meta['namespace']}/{meta['name']}: reporting exit {code}: {e.code} {e.read()[:300]}",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kubectl", type=Path, required=True)
    args = parser.parse_args()
    tokens = (args.cluster_dir / "pki" / "tokens.csv").read_text().splitlines()
    token = next(line.split(",")[0] for line in tokens if line.split(",")[1] == "admin")
    server, ca = f"https://127.0.0.1:{args.port}", args.cluster_dir / "pki" / "ca.crt"
    logs = args.cluster_dir / "jobs"
    logs.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="appcluster-jobrunner-"))
    scratch.chmod(0o755)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    runner = Runner(Api(server, ca, token), server, ca, args.kubectl.resolve(), logs, scratch)
    try:
        runner.loop()
    finally:
        runner.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
