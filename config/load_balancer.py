"""How traffic reaches the instances."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from config.aws import LoadBalancerMode, S3Bucket, check_certificate_arn
from config.base import Model, Port, matching

HostName = Annotated[
    str,
    matching(
        r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+",
        "must be a lower-case DNS name with at least one dot and no scheme or port, e.g. app.example.com "
        "or *.example.com",
    ),
]


class IngressConfig(Model):
    enabled: bool = False
    """Declare an Ingress in front of the Service (mode service)."""
    host: HostName | None = None
    """The Ingress host name, e.g. app.example.com."""
    class_name: str | None = None
    """The IngressClass; unset uses the cluster's default."""
    tls_secret_name: str | None = None
    """A TLS Secret for the host; needs enabled."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Extra annotations on the Ingress."""


class Weights(Model):
    """Share of traffic per role where the load balancer supports weights (vendor guide: 3 / 5)."""

    primary: int = Field(3, ge=0, le=999)
    """The primary's (New API master's) share of traffic."""
    replicas: int = Field(5, ge=0, le=999)
    """The replicas' (New API slaves') share of traffic."""

    @model_validator(mode="after")
    def _routes_somewhere(self) -> Weights:
        if self.primary == 0 and self.replicas == 0:
            raise ValueError("primary and replicas are both 0: no request would reach any instance; give one a weight")
        return self


class LoadBalancerConfig(Model):
    # service: a Kubernetes Service (+ optional Ingress); nlb / alb: through the AWS Load Balancer Controller.
    mode: LoadBalancerMode = "service"
    """service: a Kubernetes Service (and optional Ingress); nlb or alb: through the AWS Load Balancer Controller."""
    # Internet-facing (nlb/alb) or internal.
    public: bool = True
    """Internet-facing (nlb, alb) rather than internal."""
    certificate_arn: Annotated[str | None, AfterValidator(check_certificate_arn)] = None
    """The ACM certificate that terminates TLS; required by nlb and alb."""
    access_logs_bucket: S3Bucket | None = None
    """An S3 bucket for the load balancer's access logs."""
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    """The Service's type (mode service)."""
    port: Port = 80
    """The port the load balancer answers on."""
    sticky: bool = False
    """Send a client to the same instance (ClientIP affinity, or the AWS load balancer's stickiness)."""
    sticky_timeout_seconds: int = Field(10800, ge=1, le=86400)
    """How long stickiness lasts."""
    weights: Weights = Weights()
    """Traffic per role where the profile weights its roles and the load balancer supports weights (vendor guide: 3 / 5)."""
    ingress: IngressConfig = IngressConfig()
    """The Ingress of mode service (mode alb declares its own)."""
