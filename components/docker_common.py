"""Docker conventions the Docker target's components share: pulled images, environment lists,
HTTP health checks and the hardening every container gets."""
from __future__ import annotations

from typing import Mapping

import pulumi
import pulumi_docker as docker

# No container gains privileges after start (setuid binaries and the like).
SECURITY_OPTS = ["no-new-privileges:true"]


def pulled(parent: pulumi.Resource, name: str, image: pulumi.Input[str]) -> pulumi.Output[str]:
    """The image, pulled onto the host (kept there when the stack moves on)."""
    return docker.RemoteImage(f"{name}-image", name=image, keep_locally=True,
                              opts=pulumi.ResourceOptions(parent=parent)).image_id


def env_list(env: Mapping[str, pulumi.Input[str]]) -> pulumi.Output[list[str]]:
    """KEY=value pairs for a container, as a secret: values such as passwords ride along."""
    names = list(env)
    return pulumi.Output.secret(pulumi.Output.all(*[env[n] for n in names]).apply(
        lambda values: [f"{n}={v}" for n, v in zip(names, values)]))


def http_check(port: int, path: str) -> docker.ContainerHealthcheckArgs:
    url = f"http://127.0.0.1:{port}{path}"
    # wget in Alpine-based images, curl in Debian-based ones; either fails on an HTTP error.
    return docker.ContainerHealthcheckArgs(
        tests=["CMD-SHELL", f"wget -q -O /dev/null {url} || curl -fsS -o /dev/null {url}"],
        interval="10s", timeout="5s", retries=3, start_period="15m")
