"""The local Docker target: the same secrets, env wiring and start order as on Kubernetes, as
containers on one host behind a generated nginx load balancer."""

from __future__ import annotations

import re
import shutil
import subprocess

import pulumi
import pytest

from components.shared.nginx import Upstream, load_balancer_config
from tools.offline.harness import is_secret, reveal


def containers(run) -> dict[str, dict]:
    return {reveal(r.inputs)["name"]: r for r in run.of_type("docker:index/container:Container")}


def env(container) -> dict[str, str]:
    return dict(item.split("=", 1) for item in reveal(container.inputs)["envs"])


def test_master_first_then_slaves_with_the_same_secrets(run_stack):
    run = run_stack("docker")
    c = containers(run)
    assert set(c) == {
        "new-api-redis",
        "new-api-database",
        "new-api-primary",
        "new-api-replica-1",
        "new-api-replica-2",
        "new-api-lb",
    }
    master, slave = env(c["new-api-primary"]), env(c["new-api-replica-1"])
    assert "NODE_TYPE" not in master and slave["NODE_TYPE"] == "slave"
    assert (master["NODE_NAME"], slave["NODE_NAME"]) == ("new-api-primary", "new-api-replica-1")
    assert master["SESSION_SECRET"] == slave["SESSION_SECRET"] and len(master["SESSION_SECRET"]) == 48
    assert (
        master["SQL_DSN"].startswith("postgres://appcluster:")
        and "@new-api-database:5432/appcluster" in master["SQL_DSN"]
    )
    assert re.fullmatch(r"redis://:\w+@new-api-redis:6379/0", master["REDIS_CONN_STRING"])
    # Environments carry secrets: they reach the engine as secrets, so state keeps them encrypted.
    assert all(is_secret(r.inputs["envs"]) for r in c.values() if "envs" in r.inputs)
    assert c["new-api-primary"].urn in c["new-api-replica-1"].dependencies
    primary = reveal(c["new-api-primary"].inputs)
    assert primary["wait"] is True and primary["healthcheck"]["tests"][0] == "CMD-SHELL"
    # /api/status is rate limited per client IP, and every container's check comes from 127.0.0.1.
    assert (
        "/v1/models" in primary["healthcheck"]["tests"][1] and "/api/status" not in primary["healthcheck"]["tests"][1]
    )
    assert primary["volumes"] == [{"volumeName": "new-api-storage", "containerPath": "/data"}]
    assert primary["securityOpts"] == ["no-new-privileges:true"]


def test_nocobase_on_docker_runs_one_instance_with_every_adapter(run_stack):
    """One instance: the Docker target cannot stop the others before an upgrade (more are refused,
    tests/test_offline_toolbox.py), yet an image with the plugins still gets each adapter its DB index."""
    run = run_stack("docker", app={"profile": "nocobase", "replicas": 1, "clusterPluginsInImage": True})
    c = containers(run)
    primary = env(c["nocobase-primary"])
    assert [
        primary[k].rsplit("/", 1)[1]
        for k in (
            "CACHE_REDIS_URL",
            "PUBSUB_ADAPTER_REDIS_URL",
            "LOCK_ADAPTER_REDIS_URL",
            "QUEUE_ADAPTER_REDIS_URL",
            "REDIS_URL",
        )
    ] == ["0", "1", "2", "3", "4"]
    assert primary["DB_HOST"] == "nocobase-database"
    assert not [name for name in c if "replica" in name or "worker" in name]
    config = next(reveal(r.inputs)["uploads"] for n, r in c.items() if n == "nocobase-lb")[-1]["content"]
    assert "server nocobase-primary:80" in config


def test_load_balancer_weights_stickiness_and_passive_health_checks(run_stack):
    run = run_stack("docker", loadBalancer={"sticky": True})
    lb = reveal(containers(run)["new-api-lb"].inputs)
    config = lb["uploads"][-1]["content"]
    assert "ip_hash;" in config
    assert "server new-api-primary:3000 weight=3 max_fails=3 fail_timeout=30s;" in config
    assert config.count("weight=5") == 2
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in config
    assert (lb["ports"][0]["internal"], lb["ports"][0]["external"]) == (8080, 8080)


def test_generated_load_balancer_config_passes_nginx_t(tmp_path):
    assert shutil.which("nginx") or shutil.which("/usr/sbin/nginx"), (
        "nginx is not installed: apt-get install nginx-light"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    # Upstream names resolve only on the Docker network; nginx -t resolves them, so test with addresses.
    config = load_balancer_config([Upstream("127.0.0.1", 3000, 3), Upstream("127.0.0.2", 3000, 5)], sticky=True)
    (tmp_path / "default.conf").write_text(config)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path}; "
        f"include {tmp_path}/default.conf; }}\n"
    )
    done = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_maintenance_on_docker_stops_the_app_and_serves_the_page(run_stack):
    c = containers(run_stack("docker", maintenance=True))
    primary = reveal(c["new-api-primary"].inputs)
    assert primary["start"] is False and primary["mustRun"] is False
    uploads = reveal(c["new-api-lb"].inputs)["uploads"]
    assert any("return 503" in u.get("content", "") for u in uploads)
    assert any(u["file"].endswith("maintenance.html") for u in uploads)


def test_data_volumes_are_protected_where_the_stack_protects(run_stack):
    run = run_stack("docker", protect=True)
    volumes = run.of_type("docker:index/volume:Volume")
    assert len(volumes) == 3 and all(v.protect and v.retain_on_delete for v in volumes)


def test_docker_platform_refuses_aws_modes(run_stack):
    with pytest.raises(pulumi.RunError, match=r"appcluster:database.mode: 'rds' — the docker platform runs everything"):
        run_stack(
            "docker",
            database={"mode": "rds"},
            aws={
                "region": "eu-west-1",
                "vpcId": "vpc-0a1b2c3d4e5f60718",
                "privateSubnetIds": ["subnet-0aa11bb22cc33dd40", "subnet-0aa11bb22cc33dd41"],
                "nodeSecurityGroupId": "sg-0f1e2d3c4b5a69780",
            },
        )


@pytest.fixture
def health_server():
    """A server on loopback: 200 on /ok, 401 on /v1/models (New API without a token), 503 on /starting
    (what NocoBase answers while it migrates)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response({"/ok": 200, "/v1/models": 401}.get(self.path, 503))
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.mark.parametrize("client", ["node", "wget", "curl"])
def test_container_health_check_runs_with_only_the_client_the_image_has(health_server, client, tmp_path):
    import shutil
    import subprocess

    from components.docker.common import http_check_shell

    # An image with just a shell and one HTTP client (the NocoBase image: node, no wget or curl).
    found = shutil.which(client)
    assert found, f"{client} is needed for this test: apt-get install {client}"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / client).symlink_to(found)
    if client == "wget":  # its form reads the printed status line
        (bin_dir / "grep").symlink_to(shutil.which("grep"))
    env = {"PATH": str(bin_dir)}

    def check(path: str, status: int = 200) -> int:
        return subprocess.run(
            ["/bin/sh", "-c", http_check_shell(health_server, path, status)], env=env, capture_output=True, timeout=20
        ).returncode

    assert check("/ok") == 0
    assert check("/starting") != 0
    # New API's check outside its rate limit: 401 is the healthy answer there, anything else is not.
    assert check("/v1/models", 401) == 0
    assert check("/ok", 401) != 0 and check("/starting", 401) != 0


def test_a_replaced_instance_replaces_the_load_balancer_so_nginx_resolves_it_again(run_stack):
    import hashlib

    c = containers(run_stack("docker"))
    serving = sorted(n for n in c if "primary" in n or "replica-" in n)
    labels = {x["label"]: x["value"] for x in reveal(c["new-api-lb"].inputs)["labels"]}
    # The label is a digest of the instances' container ids (ids change on replacement; mocks: name-id).
    ids = ",".join(f"{c[n].name}-id" for n in ("new-api-primary", *sorted(n for n in serving if "replica-" in n)))
    assert labels["appcluster.io/upstreams"] == hashlib.sha256(ids.encode()).hexdigest()[:16]
