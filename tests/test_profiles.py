"""Profiles own the app facts: config names no profile, and a third app is one profile file plus
its registration, nothing else."""

from __future__ import annotations

import ast

from tests.conftest import REPO, copy_checkout, imports, props
from tools.offline import harness, stackfile

ECHO = '''"""Echo, a stand-in third app: one shared secret, Redis and the database from the platform."""
from __future__ import annotations

from profiles.base import AppSecret, Bind, Profile, Release

ECHO = Profile(
    name="echo",
    default_image="example/echo:1.4.2",
    health_path="/healthz",
    data_path="/srv/data",
    releases=(Release((1, 4, 0), (1, 5, 0), (AppSecret("ECHO_TOKEN", "hex32"),), source="tests/test_profiles.py"),),
    env=lambda cfg: {"ECHO_TOKEN": Bind("secret.ECHO_TOKEN"), "ECHO_REDIS": Bind("redis.cache"),
                     "ECHO_DB": Bind("database.url"), "ECHO_NODE": Bind("pod.name")},
    default_port=lambda image: 5678,
    run_as_user=1000,
)
'''


def test_a_third_app_is_its_profile_file_and_one_registration(tmp_path):
    root = copy_checkout(tmp_path)
    (root / "profiles" / "echo.py").write_text(ECHO)
    registry = root / "profiles" / "__init__.py"
    text = registry.read_text()
    registry.write_text(
        text.replace(
            "from profiles.nocobase import NOCOBASE\n",
            "from profiles.nocobase import NOCOBASE\nfrom profiles.echo import ECHO\n",
        ).replace("(NOCOBASE, NEW_API, GENERIC)", "(NOCOBASE, NEW_API, GENERIC, ECHO)")
    )
    # Nothing else changed in the checkout: one new file, and the registry's import and tuple.
    changed = {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file()
        and ".venv" not in p.parts
        and (not (REPO / p.relative_to(root)).exists() or (REPO / p.relative_to(root)).read_bytes() != p.read_bytes())
    }
    assert changed == {"profiles/echo.py", "profiles/__init__.py"}
    lines = set(registry.read_text().splitlines()) ^ set(text.splitlines())
    assert len(lines) == 3, lines  # one import added, one tuple line changed

    settings = tmp_path / "Pulumi.echo.yaml"
    settings.write_text(
        "config:\n  appcluster:app: {profile: echo, replicas: 3, name: echo}\n"
        "  appcluster:storage: {storageClass: nfs-client}\n"
        "  appcluster:kubernetes: {namespace: echo, renderYamlToDirectory: rendered/echo}\n"
    )
    config, secret_keys = stackfile.read(settings)
    run = harness.run_program(root, "echo", config, secret_keys)
    deployments = {props(r)["metadata"]["name"]: props(r) for r in run.of_type("kubernetes:apps/v1:Deployment")}
    assert {"echo-primary", "echo-replicas"} <= set(deployments)
    container = deployments["echo-replicas"]["spec"]["template"]["spec"]["containers"][0]
    env = {v["name"]: v for v in container["env"]}
    assert env["ECHO_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "echo-shared", "key": "ECHO_TOKEN"}
    assert env["ECHO_REDIS"]["valueFrom"]["secretKeyRef"]["name"] == "echo-connections"
    assert container["image"] == "example/echo:1.4.2" and container["ports"][0]["containerPort"] == 5678
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    generated = [r for r in run.resources if r.type == "random:index/randomBytes:RandomBytes"]
    assert [r.name for r in generated] == ["shared-secrets-echo-token"]
    # The schema learned the name from the registry, and knows its versions from the profile.
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(settings.read_text().replace("profile: echo,", "profile: echo, image: example/echo:2.0.0,"))
    try:
        harness.run_program(root, "bad", *stackfile.read(bad))
    except Exception as error:  # pulumi.RunError from the program's config check
        assert "appcluster knows echo's facts (secret formats, env names) for versions 1.4.x only" in str(error)
    else:
        raise AssertionError("an unknown echo version was accepted")


def test_config_and_profiles_import_one_way_and_config_names_no_profile():
    for path in (REPO / "profiles").glob("*.py"):
        assert not {m for m in imports(path, run_time=True) if m.split(".")[0] == "config"}, path.name
    names = {"nocobase", "new-api", "generic"}
    for path in [*(REPO / "config").glob("*.py"), *(REPO / "platforms").glob("*.py")]:
        compared = [
            ast.unparse(node)
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Compare)
            for side in (node.left, *node.comparators)
            if (isinstance(side, ast.Constant) and side.value in names)
            or (
                isinstance(side, (ast.Tuple, ast.List, ast.Set))
                and any(isinstance(e, ast.Constant) and e.value in names for e in side.elts)
            )
        ]
        literal = [
            ast.unparse(node)
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "Literal"
            and any(isinstance(e, ast.Constant) and e.value in names for e in ast.walk(node.slice))
        ]
        assert not compared and not literal, f"{path.name} branches on a profile's name: {compared + literal}"
