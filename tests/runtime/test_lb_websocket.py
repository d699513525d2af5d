"""The Docker target's load balancer passes NocoBase's own WebSocket upgrade (`/ws`) through: before
issue 16 defect 9 it sent `Connection ""` and no Upgrade header, and the handshake got 200. The slow
answer, the large body and the forged X-Forwarded-For are tests/runtime/test_nginx.py's, against
loopback upstreams."""

from __future__ import annotations

from tests.runtime import servers
from tests.runtime.lb import start_nginx, uploads, upstreams, websocket_handshake

CONF = "/etc/nginx/conf.d/default.conf"


def test_a_websocket_upgrade_on_ws_reaches_nocobase_through_the_load_balancer(nocobase, renders, workdir, stopping):
    app, _, _ = nocobase
    files = uploads(renders("docker", app={"profile": "nocobase", "replicas": 1}))
    (address,) = upstreams(files[CONF])
    stopping.append(lb := start_nginx(servers.owned_dir(workdir, "lb-ws"), files, {address: app.port}))
    assert websocket_handshake(app.port).startswith("HTTP/1.1 101")  # NocoBase itself upgrades
    status = websocket_handshake(lb.port)
    assert status.startswith("HTTP/1.1 101"), f"through the load balancer: {status}"
