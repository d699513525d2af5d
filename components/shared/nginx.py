"""nginx configurations appcluster generates: the load balancer's upstream and the 503 page.

Open-source nginx checks upstreams passively: a server that fails (refused, timed out, or 502/503/
504, which NocoBase answers while it starts or migrates) `max_fails` times is skipped for
`fail_timeout`, and the request is retried on the next one.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

# The unprivileged nginx image both targets run (the load balancer on Docker, the 503 page everywhere).
IMAGE = "nginxinc/nginx-unprivileged:1.27.5-alpine"
NGINX_UID = 101  # the image's nginx user
MESSAGE = "We are upgrading. This page will be back in a few minutes."
LISTEN_PORT = 8080
HEALTH_PATH = "/__maintenance_health"
LB_HEALTH_PATH = "/__lb_health"


@dataclass(frozen=True)
class Upstream:
    host: str
    port: int
    weight: int = 1
    primary: bool = False  # the one instance that answers the profile's primary-only paths


def load_balancer_config(
    servers: Sequence[Upstream], sticky: bool, idle_timeout_seconds: int = 60, primary_only_paths: Sequence[str] = ()
) -> str:
    """The upstream and the server in front of it. Requests may go `idle_timeout_seconds` without a byte
    either way (nginx's default of 60 s cut long LLM calls); WebSocket upgrades pass (NocoBase /ws,
    New API /v1/realtime); bodies are not capped here, the app enforces its own limit."""

    def upstream(name: str, members: Sequence[str], hashed: bool) -> list[str]:
        return [f"upstream {name} {{", *(["    ip_hash;"] if hashed else []), *members, "    keepalive 32;", "}"]

    def server(s: Upstream, weight: int) -> str:
        return f"    server {s.host}:{s.port} weight={weight} max_fails=3 fail_timeout=30s;"

    lines = upstream("app", [server(s, s.weight) for s in servers if s.weight > 0], sticky)
    locations = ""
    if primary_only_paths:
        # The primary answers these even when its weight keeps it out of the shared upstream.
        lines += upstream("primary", [server(s, 1) for s in servers if s.primary], False)
        locations = "".join(f"    location ^~ {path} {{ proxy_pass http://primary; }}\n" for path in primary_only_paths)
    return (
        "\n".join(lines)
        + f"""
# Upgrade only when the client asks; otherwise an empty Connection keeps the upstream connection alive.
map $http_upgrade $connection_upgrade {{
    default upgrade;
    ''      '';
}}
server {{
    listen {LISTEN_PORT};
    client_max_body_size 0;
    proxy_read_timeout {idle_timeout_seconds}s;
    proxy_send_timeout {idle_timeout_seconds}s;
    send_timeout {idle_timeout_seconds}s;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header Host $host;
    # Replaced, never appended to: the app's rate limit keys on the left-most address (gin's ClientIP
    # trusts every proxy by default), so a client must not be able to choose it.
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    location = {LB_HEALTH_PATH} {{ access_log off; return 200 "ok\\n"; }}
{locations}    location / {{
        proxy_pass http://app;
        proxy_next_upstream error timeout http_502 http_503 http_504;
    }}
}}
"""
    )


def maintenance_config() -> str:
    return f"""server {{
    listen {LISTEN_PORT};
    location = {HEALTH_PATH} {{ access_log off; return 200 "ok\\n"; }}
    # The 503 is served from this location after error_page's internal redirect, which drops the
    # headers the first location added: Retry-After belongs here (seen with real nginx, tests/runtime).
    location = /maintenance.html {{ internal; root /usr/share/nginx/html; add_header Retry-After 300 always; }}
    error_page 503 /maintenance.html;
    location / {{ return 503; }}
}}
"""


def maintenance_page(app_name: str, message: str) -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(app_name)}: maintenance</title>'
        f"</head><body><h1>{html.escape(app_name)} is under maintenance</h1><p>{html.escape(message)}</p></body></html>\n"
    )
