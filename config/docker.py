"""The local Docker target: the seeds' docker-compose shape, on one Docker host."""
from __future__ import annotations

from config.base import Model, Port


class DockerConfig(Model):
    host: str = "unix:///var/run/docker.sock"
    # The host port the nginx load balancer is published on.
    publish_port: Port = 8080
