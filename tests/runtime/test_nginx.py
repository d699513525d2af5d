"""The Docker target's load balancer, run: the real nginx binary with the config the `docker` stack
renders, in front of small upstreams on 127.0.0.1 that stand for the master and the slaves.

What it must do for the apps behind it: keep a request open past nginx's default 60 s (New API streams
for up to STREAMING_TIMEOUT), pass WebSocket upgrades (New API /v1/realtime, NocoBase /ws), take a body
larger than the old 100 MB cap, send first-run setup to the master alone, and never let a client choose
the address the app rate-limits by.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import http.server
import socket
import threading
import time

import pytest

from tests.runtime import servers
from tests.runtime.lb import start_nginx, uploads
from tests.runtime.lb import upstreams as lb_upstreams

CONF = "/etc/nginx/conf.d/default.conf"
SLOW_SECONDS = 65  # past nginx's default proxy_read_timeout of 60 s
BODY_BYTES = 150 * 1024 * 1024  # past the old client_max_body_size 100m
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Upstream(http.server.BaseHTTPRequestHandler):
    """An app instance: answers with its name, and records what reached it."""

    protocol_version = "HTTP/1.1"
    name = "?"
    seen: list  # (path, headers) per request

    def _answer(self, body: bytes, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.seen.append((self.path, dict(self.headers)))
        if self.path == "/slow":
            time.sleep(SLOW_SECONDS)
            return self._answer(b"done after %d s" % SLOW_SECONDS)
        if self.path == "/v1/realtime":
            if (
                self.headers.get("Upgrade", "").lower() != "websocket"
                or "upgrade" not in self.headers.get("Connection", "").lower()
            ):
                return self._answer(b"not an upgrade", 400)
            accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + WS_GUID).encode()).digest())
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept.decode())
            self.end_headers()
            self.wfile.flush()
            data = self.connection.recv(64)  # the upgraded connection: bytes both ways
            self.connection.sendall(b"echo:" + data)
            self.close_connection = True
            return
        self._answer(self.name.encode())

    def do_POST(self):
        self.seen.append((self.path, dict(self.headers)))
        left, total = int(self.headers.get("Content-Length", 0)), 0
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            left, total = left - len(chunk), total + len(chunk)
        self._answer(f"{self.name} read {total}".encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def upstreams():
    servers = {}
    for name in ("new-api-primary", "new-api-replica-1", "new-api-replica-2"):
        handler = type(name, (Upstream,), {"name": name, "seen": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield servers
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def nginx(renders, workdir, stopping, upstreams, request):
    """nginx (Debian's, unprivileged) serving the `docker` stack's rendered config on a loopback port;
    the upstream names (container names on the Docker network) are pointed at the local upstreams."""
    files = uploads(renders("docker"))
    addresses = lb_upstreams(files[CONF])
    assert {a.split(":")[0] for a in addresses} == set(upstreams)
    targets = {a: upstreams[a.split(":")[0]].server_address[1] for a in addresses}
    stopping.append(server := start_nginx(servers.owned_dir(workdir, f"nginx-{request.node.name}"), files, targets))
    return server.port


def get(port: int, path: str, headers: dict | None = None, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_request_longer_than_60_s_is_answered(nginx):
    status, body = get(nginx, "/slow", timeout=SLOW_SECONDS + 30)
    assert (status, body) == (200, b"done after %d s" % SLOW_SECONDS)


def test_a_websocket_upgrade_reaches_the_app_and_carries_data_both_ways(nginx, upstreams):
    key = base64.b64encode(b"appcluster-test-k").decode()
    with socket.create_connection(("127.0.0.1", nginx), timeout=10) as s:
        s.sendall(
            (
                f"GET /v1/realtime HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            assert chunk, f"closed after {head!r}"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head.split(b"\r\n")[0]
        s.sendall(b"ping")
        assert s.recv(64) == b"echo:ping"


def test_a_150_mb_body_reaches_the_app(nginx):
    conn = http.client.HTTPConnection("127.0.0.1", nginx, timeout=120)
    block = b"\0" * (1 << 20)
    conn.request(
        "POST",
        "/v1/audio/transcriptions",
        body=(block for _ in range(BODY_BYTES >> 20)),
        headers={"Content-Length": str(BODY_BYTES)},
    )
    response = conn.getresponse()
    assert response.status == 200 and response.read().endswith(b"read %d" % BODY_BYTES)
    conn.close()


def test_setup_goes_to_the_master_alone(nginx, upstreams):
    # Slaves read the setup state once at start (QuantumNous/new-api model/main.go CheckSetup), so a
    # slave would run a setup again after the master's.
    answers = {get(nginx, "/api/setup")[1] for _ in range(8)}
    assert answers == {b"new-api-primary"}
    assert len({get(nginx, "/api/status")[1] for _ in range(8)}) > 1  # everything else is shared


def test_a_client_cannot_pick_the_address_the_app_rate_limits(nginx, upstreams):
    get(nginx, "/api/status", headers={"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"})
    _path, headers = next(seen for u in upstreams.values() for seen in u.RequestHandlerClass.seen)
    # gin's ClientIP (v1.9: every proxy trusted by default) takes the left-most X-Forwarded-For entry.
    assert headers["X-Forwarded-For"] == "127.0.0.1" and headers["X-Real-IP"] == "127.0.0.1"
