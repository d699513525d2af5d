"""nginx configurations appcluster generates: the load balancer's upstream and the 503 page.

Open-source nginx checks upstreams passively: a server that fails (refused, timed out, or 502/503/
504, which NocoBase answers while it starts or migrates) `max_fails` times is skipped for
`fail_timeout`, and the request is retried on the next one.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

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


def load_balancer_config(servers: Sequence[Upstream], sticky: bool) -> str:
    lines = ["upstream app {"]
    if sticky:
        lines.append("    ip_hash;")
    lines += [f"    server {s.host}:{s.port} weight={s.weight} max_fails=3 fail_timeout=30s;" for s in servers if s.weight > 0]
    lines.append("    keepalive 32;")
    lines.append("}")
    return "\n".join(lines) + f"""
server {{
    listen {LISTEN_PORT};
    client_max_body_size 100m;
    location = {LB_HEALTH_PATH} {{ access_log off; return 200 "ok\\n"; }}
    location / {{
        proxy_pass http://app;
        proxy_next_upstream error timeout http_502 http_503 http_504;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }}
}}
"""


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
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(app_name)}: maintenance</title>"
            f"</head><body><h1>{html.escape(app_name)} is under maintenance</h1><p>{html.escape(message)}</p></body></html>\n")
