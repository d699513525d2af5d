"""NocoBase's own code, at the versions our profile knows, run on the environment we render: its AES
key loader on the generated key, its cache and database readers on the wiring. A wrong fact about
the app fails here, not in a deployment. The code comes from npm (scripts/vendor-nocobase.sh)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from profiles.base import parse_version
from profiles.nocobase import NOCOBASE
from tests.conftest import REPO, env_of, k8s, merge, secret_data, stack_config
from tools.offline import harness
from tools.offline.harness import reveal

# @nocobase/server versions npm serves here: the oldest and newest of each release range we know.
SERVER_VERSIONS = ("1.9.62", "2.0.0", "2.2.15")
APP_VERSION = "2.2.15"  # @nocobase/app and @nocobase/database: npm serves only this one


@pytest.fixture(scope="session")
def vendor() -> Path:
    done = subprocess.run([str(REPO / "scripts" / "vendor-nocobase.sh")], capture_output=True, text=True)
    assert done.returncode == 0, f"could not fetch NocoBase's code from npm:\n{done.stderr}"
    return Path(done.stdout.strip())


def rendered_env(run, deployment: str) -> dict[str, str]:
    """The container's environment as the pod would see it: Secret references resolved."""
    out = {}
    for name, var in env_of(k8s(run, "Deployment", deployment)).items():
        ref = reveal(var).get("valueFrom", {})
        if "secretKeyRef" in ref:
            out[name] = secret_data(run, ref["secretKeyRef"]["name"])[ref["secretKeyRef"]["key"]]
        elif "fieldRef" in ref:
            out[name] = f"{deployment}-0"
        else:
            out[name] = reveal(var)["value"]
    return out


def nocobase(vendor: Path, server_version: str, env: dict[str, str]) -> dict:
    done = subprocess.run(
        ["node", str(REPO / "tests" / "vendor" / "nocobase.js"), str(vendor), server_version, APP_VERSION],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_release_we_know_is_run_at_a_version_npm_serves():
    for release in NOCOBASE.releases:
        assert any(release.covers(parse_version(v)) for v in SERVER_VERSIONS), release
    assert NOCOBASE.default_image.endswith(f":{APP_VERSION}")


@pytest.mark.parametrize("version", SERVER_VERSIONS)
def test_the_generated_aes_key_loads_in_that_version(run_stack, vendor, version):
    # One instance: before 2.1.24 NocoBase runs no more (its cache shares the worker-ID allocator's DB).
    env = rendered_env(
        run_stack("dev", app={"image": f"nocobase/nocobase:{version}", "replicas": 1, "firstVersion": version}),
        "nocobase-primary",
    )
    assert nocobase(vendor, version, env)["aes"] == {"ok": True}


def test_the_other_releases_key_format_is_refused_by_the_vendor_code(vendor):
    """The check above can fail: 1.x refuses the 2.x format (64 hex characters), the defect we had."""
    result = nocobase(vendor, "1.9.62", {"APP_AES_SECRET_KEY": "ab" * 32})
    assert result["aes"] == {"ok": False, "error": "Key must be 32 bytes for AES-256 encryption."}


def test_cache_and_database_readers_see_our_wiring(run_stack, vendor):
    run = run_stack("dev")
    env = rendered_env(run, "nocobase-replicas")
    result = nocobase(vendor, APP_VERSION, env)
    cache = result["cache"]
    assert cache["defaultStore"] == "redis"
    # The cache gets its own DB index (0), not the worker-ID allocator's (REDIS_URL, 4).
    assert cache["stores"]["redis"]["url"] == env["CACHE_REDIS_URL"] and cache["stores"]["redis"]["url"].endswith("/0")
    assert env["REDIS_URL"].endswith("/4")
    db = result["database"]
    assert db["dialect"] == "postgres" and db["port"] == "5432"
    assert db["host"] == "nocobase-database.nocobase-dev.svc.cluster.local"
    assert (db["username"], db["database"]) == ("appcluster", "appcluster")
    assert db["password"] == secret_data(run, "nocobase-shared")["DATABASE_PASSWORD"]
    assert "dialectOptions" not in db  # in-cluster PostgreSQL: no TLS


def test_rds_stacks_turn_the_drivers_tls_on(vendor):
    # The proxy's endpoint is unknown until AWS creates it: the run is given one, as test_aws.py does.
    config, secret_keys = stack_config("prod")
    run = harness.run_program(REPO, "prod", config, secret_keys, computed=harness.AWS_ENDPOINTS)
    db = nocobase(vendor, APP_VERSION, rendered_env(run, "nocobase-primary"))["database"]
    assert db["dialectOptions"] == {"ssl": {"rejectUnauthorized": True}}
    assert db["host"].endswith(".proxy-c9akciq32.eu-west-1.rds.amazonaws.com")


def redis_7(url: str, tmp_path: Path):
    """A real Redis (Debian's 7.x: no Bloom filter module) on 127.0.0.1 with the rendered URL's password;
    returns the process and the URL pointed at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    parts = urlsplit(url)
    server = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
            "--requirepass",
            parts.password,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return server, parts._replace(netloc=f":{parts.password}@127.0.0.1:{port}").geturl()


@pytest.mark.parametrize("store", ["redis", "memory"])
def test_the_token_blacklist_works_on_a_redis_without_bloom_filters(run_stack, vendor, store, tmp_path):
    """NocoBase 2.2.15 on Redis 7 (ElastiCache's redis engine): creating the Bloom filter fails at start,
    is logged, and the blacklist asks the database instead: a signed-out token stays refused, at one
    database lookup per request (what config's warning says it costs). The memory store has a Bloom
    filter: there only the blacklisted token reaches the database."""
    env = rendered_env(run_stack("dev", redis={"image": "redis:7.2.4"}), "nocobase-primary")
    server, url = redis_7(env["CACHE_REDIS_URL"], tmp_path)
    try:
        done = subprocess.run(
            ["node", str(REPO / "tests" / "vendor" / "nocobase_auth.js"), str(vendor), APP_VERSION],
            env={"PATH": os.environ["PATH"], "CACHE_DEFAULT_STORE": store, "CACHE_REDIS_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert env["CACHE_DEFAULT_STORE"] == "redis"
    assert result["signedOutRefused"] and result["validAccepted"]
    if store == "redis":
        assert result["bloomFilter"] is False and result["lookups"] == 2
        assert result["warnings"] == [
            "token-blacklist: create bloom filter failed: ERR unknown command 'BF.RESERVE', with args beginning "
            "with: 'token-black-list' '0.001' '1000000' "
        ]
    else:
        assert result["bloomFilter"] is True and result["lookups"] == 1 and not result["warnings"]


def upgraded(tmp_path: Path, versions: tuple[str, ...], **overrides) -> list[dict[str, str]]:
    """The primary's environment of the dev stack (one instance: before 2.1.24 NocoBase runs no more)
    deployed at each version in turn, with `overrides`."""
    envs = []
    for version in versions:
        config, secret_keys = stack_config(
            "dev", merge({"app": {"image": f"nocobase/nocobase:{version}", "replicas": 1}}, overrides), tmp_path
        )
        envs.append(rendered_env(harness.run_program(REPO, "dev", config, secret_keys), "nocobase-primary"))
    return envs


def read_after_upgrade(vendor: Path, before: dict, after: dict) -> str:
    """A field 1.9.62 encrypted under `before`'s key, as 2.2.15 decrypts it under `after`'s."""
    written = nocobase(vendor, "1.9.62", before)["ciphertext"]
    return nocobase(vendor, "2.2.15", {**after, "APPCLUSTER_CIPHERTEXT": written})["decrypted"]


def test_an_upgrade_from_1_9_keeps_the_generated_aes_key(vendor, tmp_path):
    """1.9 uses the key's 32 characters, 2.x decodes hex: a stack first deployed at 1.9 keeps its
    generator on 2.x, and its key there is their hex, the same bytes, so what 1.9 encrypted 2.2.15
    still decrypts."""
    before, after = upgraded(tmp_path, ("1.9.62", "2.2.15"), app={"firstVersion": "1.9.62"})
    assert len(before["APP_AES_SECRET_KEY"]) == 32
    assert after["APP_AES_SECRET_KEY"] == before["APP_AES_SECRET_KEY"].encode().hex()
    assert read_after_upgrade(vendor, before, after) == "appcluster"
    # The check can fail: a stack born on 2.x has a key of random bytes, under which 1.9's field is lost.
    (born,) = upgraded(tmp_path, ("2.2.15",))
    assert read_after_upgrade(vendor, before, born) == "(ERR_OSSL_BAD_DECRYPT)"


def test_a_1_9_key_set_in_config_is_taken_by_2_x_as_the_same_key(vendor, tmp_path):
    """The key a team set for 1.9 (32 characters) stays in config when the image moves to 2.x, which
    takes it as the hex of those characters instead of refusing it."""
    key = {"secrets": {"appAesSecretKey": "Kept1dot9key0123456789abcdefghij"}}
    before, after = upgraded(tmp_path, ("1.9.62", "2.2.15"), **key)
    assert before["APP_AES_SECRET_KEY"] == key["secrets"]["appAesSecretKey"]
    assert read_after_upgrade(vendor, before, after) == "appcluster"
