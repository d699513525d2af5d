"""Part 5: the Docker target's nginx configs as rendered, run by real nginx: in front of the real
NocoBase, as the maintenance page, and in front of a few tiny upstreams to measure weights and
ip_hash. (WebSocket upgrades: test_lb_websocket.py; responses over 60 s and bodies over 100 MB:
test_nginx.py.)"""

from __future__ import annotations

import json
from collections import Counter

from components.shared.nginx import HEALTH_PATH, LB_HEALTH_PATH
from tests.runtime import servers
from tests.runtime.lb import get, named_upstreams, start_nginx, uploads, upstreams, websocket_handshake
from tests.runtime.nocobase import request

CONF = "/etc/nginx/conf.d/default.conf"
REQUESTS = 390  # 30 rounds of weights 3 + 5 + 5


def test_traffic_reaches_nocobase_through_the_load_balancer(nocobase, renders, workdir, stopping):
    app, _, _ = nocobase
    files = uploads(renders("docker", app={"profile": "nocobase", "replicas": 1}))
    (address,) = upstreams(files[CONF])
    stopping.append(lb := start_nginx(servers.owned_dir(workdir, "lb-nocobase"), files, {address: app.port}))
    assert get(lb.port, LB_HEALTH_PATH)[0] == 200
    assert get(lb.port, "/api/__health_check")[0] == 200
    status, _, body = request(
        lb.port,
        "POST",
        "/api/auth:signIn",
        json.dumps(app.root_account).encode(),
        {"Content-Type": "application/json", "X-Authenticator": "basic"},
    )
    assert status == 200 and json.loads(body)["data"]["token"], (status, body[:300])


def test_nocobase_itself_accepts_the_websocket_upgrade_on_ws(nocobase):
    """What the load balancer must pass on: NocoBase's gateway upgrades WS_PATH, /ws by default
    (nocobase/nocobase packages/core/cli-v1/src/util.js and server/src/gateway/index.ts, v2.2.0)."""
    app, _, _ = nocobase
    assert websocket_handshake(app.port).startswith("HTTP/1.1 101"), "NocoBase refused the upgrade on /ws"


def test_the_maintenance_page_answers_503_with_retry_after_and_its_health_path_200(renders, workdir, stopping):
    files = uploads(renders("docker", maintenance=True))
    stopping.append(lb := start_nginx(servers.owned_dir(workdir, "lb-maintenance"), files, {}))
    for path in ("/", "/api/__health_check", "/ws"):
        status, headers, body = get(lb.port, path)
        assert status == 503 and headers.get("retry-after") == "300", (path, status, headers)
        assert b"under maintenance" in body, (path, body[:300])
    assert get(lb.port, HEALTH_PATH)[0] == 200


def spread(renders, workdir, stopping, name: str, **overrides) -> tuple[Counter, dict[str, int]]:
    """REQUESTS through the rendered load balancer of the New API docker stack to one tiny upstream
    per rendered server; returns the count per upstream and the rendered weights."""
    files = uploads(renders("docker", **overrides))
    addresses = upstreams(files[CONF])
    weights = {a: int(files[CONF].split(f"server {a} weight=")[1].split()[0]) for a in addresses}
    with named_upstreams(addresses) as ports:
        stopping.append(lb := start_nginx(servers.owned_dir(workdir, name), files, ports))
        counts = Counter(get(lb.port, "/api/status")[2].decode() for _ in range(REQUESTS))
    return counts, weights


def test_requests_spread_by_the_rendered_weights(renders, workdir, stopping):
    counts, weights = spread(renders, workdir, stopping, "lb-weights")
    assert sorted(weights.values()) == [3, 5, 5], weights  # the docker stack: master 3, two slaves 5
    total = sum(weights.values())
    for address, weight in weights.items():
        share = counts[address] / REQUESTS
        assert abs(share - weight / total) < 0.03, (address, dict(counts), weights)


def test_ip_hash_keeps_a_client_on_one_upstream(renders, workdir, stopping):
    counts, weights = spread(renders, workdir, stopping, "lb-sticky", loadBalancer={"sticky": True})
    assert len(weights) == 3 and len(counts) == 1 and sum(counts.values()) == REQUESTS, dict(counts)


def test_a_large_upload_passes_the_load_balancer(renders, workdir, stopping):
    files = uploads(renders("docker"))
    addresses = upstreams(files[CONF])
    size = 60 << 20  # NocoBase's attachments default to 20 MB; a team may allow more
    with named_upstreams(addresses) as ports:
        stopping.append(lb := start_nginx(servers.owned_dir(workdir, "lb-upload"), files, ports))
        status, _, body = get(
            lb.port,
            "/upload",
            timeout=120,
            method="POST",
            body=b"u" * size,
            headers=f"Content-Length: {size}\r\nConnection: close\r\n",
        )
    assert status == 200 and int(body) == size, (status, body[:200])
