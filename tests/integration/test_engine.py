"""`pulumi up` / `preview` of our stacks in render mode with the real engine."""

from __future__ import annotations

import base64
import json
import stat

import kubernetes_validate
import yaml

from tests.integration.conftest import Project

LOCAL_SECRETS = ("sessionSecret", "cryptoSecret", "databasePassword", "redisPassword")


def manifests(folder):
    files = sorted(folder.glob("*-manifest/*.yaml"))
    assert files, f"nothing rendered in {folder}"
    return files


def secret_values(project: Project, stack: str, keys, cwd=None) -> list[str]:
    return [
        project.pulumi("config", "get", "--stack", stack, "--path", f"appcluster:secrets.{k}", cwd=cwd).stdout.strip()
        for k in keys
    ]


def declared(project: Project, stack: str, settings=None) -> int:
    """How many resources the program declares for the stack's current config (under mocks), the stack
    itself included: what the engine must report."""
    from tools.offline import harness, stackfile

    config, secret_keys = stackfile.read(settings or project.root / f"Pulumi.{stack}.yaml")
    return len(harness.run_program(project.root, stack, config, secret_keys).resources) + 1


def test_make_up_deploys_the_local_stack_and_a_second_run_changes_nothing(project):
    # What `make up` runs, with this copy's own backend.
    tracked = (project.root / "Pulumi.local.yaml").read_text()
    up = project.run("scripts/up.sh")
    # make up keeps the stack's project (salt, generated secrets) under .state/: the checkout is untouched.
    state_project = project.root / ".state" / "project"
    assert (project.root / "Pulumi.local.yaml").read_text() == tracked
    count = declared(project, "local", state_project / "Pulumi.local.yaml")
    assert f"+ {count} created" in up.stdout
    rendered = project.root / "rendered" / "local"
    kinds = []
    for path in manifests(rendered):
        doc = yaml.safe_load(path.read_text())
        kubernetes_validate.validate(doc, "1.31", strict=True)
        kinds.append(doc["kind"])
    assert kinds.count("Deployment") == 2 and kinds.count("StatefulSet") == 2 and kinds.count("Secret") == 2

    preview = project.pulumi("preview", "--stack", "local", "--expect-no-changes", cwd=state_project)
    assert f"{count} unchanged" in preview.stdout
    again = project.run("scripts/up.sh")
    assert f"{count} unchanged" in again.stdout

    # Secrets: generated once into the stack config, plain only in the rendered Secret objects.
    values = secret_values(project, "local", LOCAL_SECRETS, cwd=state_project)
    assert all(len(v) >= 32 for v in values)
    encoded = [base64.b64encode(v.encode()).decode() for v in values]
    for path in manifests(rendered):
        text = path.read_text()
        if yaml.safe_load(text)["kind"] != "Secret":
            assert not any(v in text for v in values + encoded), f"a secret value in {path.name}"
    shared = yaml.safe_load(next(p for p in manifests(rendered) if p.name.endswith("new-api-shared.yaml")).read_text())
    data = {k: base64.b64decode(v).decode() for k, v in shared["data"].items()}
    assert (data["SESSION_SECRET"], data["CRYPTO_SECRET"]) == tuple(values[:2])
    assert stat.S_IMODE((project.root / "rendered").stat().st_mode) & 0o077 == 0
    assert not any(v in (state_project / "Pulumi.local.yaml").read_text() for v in values)
    assert (project.root / "Pulumi.local.yaml").read_text() == tracked

    export = project.pulumi("stack", "export", "--stack", "local", cwd=state_project).stdout
    assert not any(v in export for v in values)
    state = json.loads(export)
    assert any(
        "4dabf18193072939515e22adb298388d" in json.dumps(r.get("outputs", {}))
        for r in state["deployment"]["resources"]
        if r["type"] == "kubernetes:core/v1:Secret"
    )


def test_dev_stack_deploys_with_secrets_from_config(project):
    # The engine here has no pulumi-random provider (see the README): the dev stack takes every
    # secret from config, as a team without it would.
    project.stack("dev")
    for key in (
        "appKey",
        "databasePassword",
        "redisPassword",
        "appAesSecretKey",
        "rootPassword",
        "nocobasePkgUsername",
        "nocobasePkgPassword",
    ):
        project.pulumi("config", "set", "--secret", "--path", f"appcluster:secrets.{key}", "0123456789abcdef" * 4)
    project.pulumi("config", "set", "--path", "appcluster:kubernetes.renderYamlToDirectory", "rendered/dev")
    project.pulumi("up", "--yes", "--skip-preview")
    docs = [yaml.safe_load(p.read_text()) for p in manifests(project.root / "rendered" / "dev")]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.31", strict=True)
    primary = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "nocobase-primary")
    env = {e["name"]: e for e in primary["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["APP_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "nocobase-shared", "key": "APP_KEY"}
    project.pulumi("preview", "--expect-no-changes")


def test_invalid_config_stops_the_engine_before_any_resource(project):
    project.stack("local")
    project.pulumi("config", "set", "--path", "appcluster:app.replicas", "40")
    done = project.pulumi("preview", check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "appcluster:app.replicas: 40 — must be between 1 and 32" in output
    assert "Traceback" not in output
    # Only the stack itself is in the plan: no provider, component or Kubernetes object was declared.
    assert "pulumi:providers:kubernetes" not in output and "appcluster:index:" not in output


def test_a_secret_set_without_secret_is_refused_by_the_engine_run_too(project):
    # Pulumi.yaml's default for appcluster:secrets is {}: that alone must not count as plain text.
    project.stack("local")
    project.pulumi("config", "set", "--path", "appcluster:secrets.sessionSecret", "s" * 40)
    done = project.pulumi("preview", check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output
    assert "appcluster:secrets: sessionSecret given in plain text in the stack file" in output
    assert "s" * 40 not in output
