"""Part 2: NocoBase 2.2.15 starts from the env we render (one instance, shared by these tests: a
start takes 30-40 s) and behaves as our settings say. The tests run in file order: the last one
restarts it."""

from __future__ import annotations

import json
import subprocess
import uuid

from profiles import REDIS_DB_INDEX
from tests.runtime import servers
from tests.runtime.nocobase import VENDOR_ROOT_ACCOUNT, api, request, startup_window


def test_health_is_green_within_the_startup_window(nocobase):
    app, r, _ = nocobase
    window = startup_window(r, "nocobase-primary")
    assert app.started_seconds and app.started_seconds[0] < window, (app.started_seconds, window)
    assert request(app.port, "GET", "/api/__health_check")[0] == 200


def test_the_rendered_root_account_signs_in_and_the_vendor_default_does_not(nocobase):
    app, r, _ = nocobase
    assert app.env["INIT_ROOT_PASSWORD"] == r.secrets["nocobase-shared"]["INIT_ROOT_PASSWORD"] != "admin123"
    token = app.sign_in()
    status, body = api(app.port, "GET", "/api/auth:check", token=token)
    assert status == 200 and body["data"]["email"] == app.root_account["account"] == "admin@example.com", (status, body)
    status, body = api(app.port, "POST", "/api/auth:signIn", VENDOR_ROOT_ACCOUNT)
    assert status != 200 and "token" not in body.get("data", {}), (status, body)


def test_cache_keys_land_only_in_the_cache_db_index(nocobase):
    app, r, redis = nocobase
    api(app.port, "GET", "/api/auth:check", token=app.sign_in())
    password = r.secrets["nocobase-shared"]["REDIS_PASSWORD"]
    sizes = {}
    for db in range(16):
        done = subprocess.run(
            [
                servers.binary("redis-cli"),
                "-p",
                str(redis.port),
                "--no-auth-warning",
                "-a",
                password,
                "-n",
                str(db),
                "DBSIZE",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        if int(done.stdout) > 0:
            sizes[db] = int(done.stdout)
    assert list(sizes) == [REDIS_DB_INDEX["cache"]], f"keys per DB index: {sizes}"


def upload(port: int, token: str, name: str, content: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, raw = request(
        port,
        "POST",
        "/api/attachments:create",
        body,
        {
            "Authorization": f"Bearer {token}",
            "X-Authenticator": "basic",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert status == 200, (status, raw[:500])
    return json.loads(raw)["data"]


def test_uploads_are_written_under_the_storage_path(nocobase):
    app, _, _ = nocobase
    content = f"appcluster runtime {uuid.uuid4()}".encode()
    record = upload(app.port, app.sign_in(), "probe.txt", content)
    written = [p for p in app.storage.rglob(record["filename"]) if p.is_file()]
    assert written and written[0].read_bytes() == content, (record, sorted(app.storage.rglob("*"))[:20])


def test_sigterm_stops_it_within_the_grace_period_and_a_restart_keeps_data_and_session(nocobase):
    app, r, _ = nocobase
    token = app.sign_in()
    record = upload(app.port, token, "kept.txt", b"kept across a restart")
    grace = r.pod("Deployment", "nocobase-primary")["terminationGracePeriodSeconds"]
    took = app.stop(grace=grace)
    assert took is not None and took < grace / 2, f"SIGTERM: still running after {grace}s" if took is None else took
    app.start(startup_window(r, "nocobase-primary"))
    status, body = api(app.port, "GET", "/api/auth:check", token=token)
    assert status == 200 and body["data"]["email"] == app.root_account["account"], (status, body)
    status, body = api(app.port, "GET", f"/api/attachments:get?filterByTk={record['id']}", token=token)
    assert status == 200 and body["data"]["filename"] == record["filename"], (status, body)
