"""MaintenancePage: what the load balancer serves while the app is stopped for an upgrade.

An unprivileged nginx answers every request with 503 and a static page (so clients and crawlers
know to come back), and 200 on its own health path only, so it can be ready without pretending
the app is up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv
from components.shared import args as check
from components.shared.nginx import HEALTH_PATH, IMAGE, MESSAGE, NGINX_UID, maintenance_config, maintenance_page
from components.shared.nginx import LISTEN_PORT as PORT


@dataclass(frozen=True, kw_only=True)
class MaintenancePageArgs:
    app_name: str
    namespace: pulumi.Input[str]
    message: str = MESSAGE

    def __post_init__(self) -> None:
        check.require(self, bool(self.message.strip()), "message", "must say something: the page shows only it")


class MaintenancePage(pulumi.ComponentResource):
    pod_selector: Mapping[str, str]

    def __init__(self, name: str, args: MaintenancePageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:MaintenancePage", name, None, opts)
        labels = conv.labels(args.app_name, "maintenance")
        self.pod_selector = conv.selector(args.app_name, "maintenance")
        config = k8s.core.v1.ConfigMap(
            f"{name}-content",
            metadata={"name": f"{args.app_name}-maintenance", "namespace": args.namespace, "labels": labels},
            data={
                "default.conf": maintenance_config(),
                "maintenance.html": maintenance_page(args.app_name, args.message),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        probe = {"httpGet": {"path": HEALTH_PATH, "port": "http"}, "periodSeconds": 5}
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": f"{args.app_name}-maintenance", "namespace": args.namespace, "labels": labels},
            spec={
                "replicas": 2,
                "selector": {"matchLabels": dict(self.pod_selector)},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "securityContext": conv.pod_security_context(NGINX_UID),
                        "containers": [
                            {
                                "name": "nginx",
                                "image": IMAGE,
                                "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
                                "resources": {
                                    "requests": {"cpu": "10m", "memory": "16Mi"},
                                    "limits": {"cpu": "200m", "memory": "64Mi"},
                                },
                                "securityContext": conv.container_security_context(NGINX_UID, read_only_root=True),
                                "readinessProbe": probe,
                                "livenessProbe": probe,
                                "volumeMounts": [
                                    {
                                        "name": "content",
                                        "mountPath": "/etc/nginx/conf.d/default.conf",
                                        "subPath": "default.conf",
                                    },
                                    {
                                        "name": "content",
                                        "mountPath": "/usr/share/nginx/html/maintenance.html",
                                        "subPath": "maintenance.html",
                                    },
                                    {"name": "tmp", "mountPath": "/tmp"},
                                ],
                            }
                        ],
                        "volumes": [
                            {"name": "content", "configMap": {"name": config.metadata.name}},
                            {"name": "tmp", "emptyDir": {}},
                        ],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
