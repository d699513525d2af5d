"""NocoBase's root account: created on install from INIT_ROOT_EMAIL / INIT_ROOT_PASSWORD, else the
vendor's admin@nocobase.com / admin123 (@nocobase/plugin-users 2.2.15 dist/server/server.js), so the
stack renders both: the password as a shared secret generated once, the email from app.rootEmail."""

from __future__ import annotations

import json

import pytest

from config import ConfigError, load
from tests.conftest import env_of, k8s, secret_data
from tools.offline import harness


def test_the_root_password_is_generated_once_and_reaches_every_instance_from_the_secret(run_stack):
    run = run_stack("prod")
    for deployment in ("nocobase-primary", "nocobase-replicas"):
        env = env_of(k8s(run, "Deployment", deployment))
        assert env["INIT_ROOT_PASSWORD"] == {
            "name": "INIT_ROOT_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "nocobase-shared", "key": "INIT_ROOT_PASSWORD"}},
        }, env["INIT_ROOT_PASSWORD"]
        assert env["INIT_ROOT_EMAIL"]["value"] == "admin@example.com"
    generated = [r for r in run.resources if r.name == "shared-secrets-init-root-password"]
    assert len(generated) == 1 and generated[0].type == "random:index/randomPassword:RandomPassword"
    assert generated[0].protect and harness.reveal(generated[0].inputs)["length"] >= 32
    password = secret_data(run, "nocobase-shared")["INIT_ROOT_PASSWORD"]
    assert password and password != "admin123"


def test_a_root_password_from_config_is_used_and_appears_only_in_the_secret(run_stack):
    chosen = "correct-horse-battery-staple-42"
    run = run_stack("prod", secrets={"rootPassword": chosen}, app={"rootEmail": "ops@shop.example"})
    assert secret_data(run, "nocobase-shared")["INIT_ROOT_PASSWORD"] == chosen
    assert not [r for r in run.resources if r.name == "shared-secrets-init-root-password"]
    assert env_of(k8s(run, "Deployment", "nocobase-primary"))["INIT_ROOT_EMAIL"]["value"] == "ops@shop.example"
    for resource in run.resources:
        if resource.is_kubernetes and resource.inputs.get("kind") == "Secret":
            continue
        assert chosen not in json.dumps(harness.reveal(resource.inputs), default=str), resource.urn


@pytest.mark.parametrize(
    "key,value,fragments",
    [
        ("app", {"rootEmail": "admin"}, ("appcluster:app.rootEmail", "must be an email address")),
        ("secrets", {"rootPassword": "admin123"}, ("appcluster:secrets.rootPassword", "at least 16 characters")),
    ],
)
def test_a_bad_root_account_is_refused_naming_the_key(key, value, fragments):
    raw = {"app": {"profile": "nocobase"}, "storage": {"storageClass": "nfs-client"}}
    raw[key] = {**raw.get(key, {}), **value}
    with pytest.raises(ConfigError) as error:
        load(raw)
    assert all(f in str(error.value) for f in fragments) and "Traceback" not in str(error.value), str(error.value)
