"""The Docker target's nginx (the load balancer's or the maintenance page's config, as the stack
renders its container's uploads) run by real nginx, unprivileged on 127.0.0.1, and tiny local
upstreams that answer with their own name."""

from __future__ import annotations

import base64
import http.server
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from components.shared.nginx import LISTEN_PORT
from tests.runtime import servers
from tests.runtime.render import Rendered
from tools.offline import harness

UPSTREAM = re.compile(r"server (\S+):(\d+) ")


def uploads(r: Rendered) -> dict[str, str]:
    """The files the load balancer's container gets, by path in the container."""
    container = harness.reveal(r.run.named("load-balancer-container").inputs)
    return {u["file"]: u["content"] for u in container["uploads"]}


def upstreams(config: str) -> list[str]:
    return [f"{host}:{port}" for host, port in UPSTREAM.findall(config)]


def start_nginx(root: Path, files: Mapping[str, str], targets: Mapping[str, int]) -> servers.Server:
    """nginx with the rendered files under a prefix folder: the listen port and each upstream
    host:port (`targets`: rendered address -> local port) are the only things changed."""
    prefix = servers.owned_dir(root, "nginx")
    port = servers.free_port()
    for file, content in files.items():
        content = content.replace(f"listen {LISTEN_PORT};", f"listen 127.0.0.1:{port};")
        content = content.replace("root /usr/share/nginx/html;", f"root {prefix}/usr/share/nginx/html;")
        for address, local in targets.items():
            content = content.replace(f"server {address} ", f"server 127.0.0.1:{local} ")
        path = prefix / file.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/tmp-{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # The http block of the nginx-unprivileged image's own nginx.conf, around the rendered conf.d.
    (prefix / "nginx.conf").write_text(f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log notice;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    sendfile on;
    keepalive_timeout 65;
{temp}
    include {prefix}/etc/nginx/conf.d/*.conf;
}}
""")
    for path in prefix.rglob("*"):
        shutil.chown(path, "nobody", "nogroup")
    return servers.spawn(
        [
            servers.binary("nginx", "/usr/sbin/nginx"),
            "-p",
            str(prefix),
            "-c",
            str(prefix / "nginx.conf"),
            "-g",
            "daemon off;",
        ],
        root / "nginx.log",
        port,
        prefix,
    )


class _Named(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/slow/"):
            time.sleep(float(self.path.rsplit("/", 1)[1]))
        self._answer(self.server.name.encode())

    def do_POST(self):
        left, received = int(self.headers["Content-Length"]), 0
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            received += len(chunk)
            left -= len(chunk)
        self._answer(str(received).encode())

    def _answer(self, body: bytes):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def named_upstreams(names: list[str]) -> Iterator[dict[str, int]]:
    """One tiny HTTP server per name on 127.0.0.1, answering every GET with its name: name -> port."""
    started = []
    try:
        for name in names:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Named)
            server.name = name
            threading.Thread(target=server.serve_forever, daemon=True).start()
            started.append(server)
        yield {s.name: s.server_address[1] for s in started}
    finally:
        for server in started:
            server.shutdown()
            server.server_close()


def get(
    port: int,
    path: str,
    timeout: float = 30,
    headers: str = "Connection: close\r\n",
    body: bytes = b"",
    method: str = "GET",
) -> tuple[int, dict, bytes]:
    """One request on a fresh connection (nginx's balancing is per request either way); the
    response as read until the server closes or `timeout`."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
        for i in range(0, len(body), 1 << 20):
            s.sendall(body[i : i + (1 << 20)])
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def websocket_handshake(port: int, path: str = "/ws", timeout: float = 15) -> str:
    """The status line a WebSocket upgrade request gets (RFC 6455 opening handshake)."""
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")
