"""Docker conventions the Docker target's components share: pulled images, environment lists,
HTTP health checks and the hardening every container gets."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_docker as docker

# No container gains privileges after start (setuid binaries and the like).
SECURITY_OPTS = ["no-new-privileges:true"]


def pulled(parent: pulumi.Resource, name: str, image: pulumi.Input[str]) -> pulumi.Output[str]:
    """The image, pulled onto the host (kept there when the stack moves on)."""
    return docker.RemoteImage(
        f"{name}-image", name=image, keep_locally=True, opts=pulumi.ResourceOptions(parent=parent)
    ).image_id


def env_list(env: Mapping[str, pulumi.Input[str]]) -> pulumi.Output[list[str]]:
    """KEY=value pairs for a container, as a secret: values such as passwords ride along."""
    names = list(env)
    return pulumi.Output.secret(
        pulumi.Output.all(*[env[n] for n in names]).apply(
            lambda values: [f"{n}={v}" for n, v in zip(names, values, strict=True)]
        )
    )


def http_check_shell(port: int, path: str, status: int = 200) -> str:
    """Succeeds only when the app answers `status` on `path`, with whichever client the image has: node
    (the NocoBase image has neither wget nor curl), wget (busybox or GNU: New API), or curl."""
    url = f"http://127.0.0.1:{port}{path}"
    node = (
        f"node -e \"require('http').get('{url}', r => process.exit(r.statusCode === {status} ? 0 : 1))"
        f".on('error', () => process.exit(1))\""
    )
    # wget exits non-zero on any 4xx, so its printed status line decides.
    wget = f"wget -S -O /dev/null {url} 2>&1 | grep -q 'HTTP/1.. {status} '"
    curl = f"test \"$(curl -sS -o /dev/null -w '%{{http_code}}' {url})\" = {status}"
    return f"if command -v node >/dev/null; then {node}; elif command -v wget >/dev/null; then {wget}; else {curl}; fi"


def http_check(port: int, path: str, status: int = 200) -> docker.ContainerHealthcheckArgs:
    return docker.ContainerHealthcheckArgs(
        tests=["CMD-SHELL", http_check_shell(port, path, status)],
        interval="10s",
        timeout="5s",
        retries=3,
        start_period="15m",
    )
