"""How traffic reaches the instances."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import AfterValidator, Field, model_validator
from typing_extensions import Annotated

from config.aws import LoadBalancerMode, S3Bucket, check_certificate_arn

from config.base import Model, Port, matching


HostName = matching(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+",
                    "must be a lower-case DNS name with at least one dot and no scheme or port, e.g. app.example.com "
                    "or *.example.com")


class IngressConfig(Model):
    enabled: bool = False
    host: Optional[HostName] = None
    class_name: Optional[str] = None
    tls_secret_name: Optional[str] = None
    annotations: dict[str, str] = {}


class Weights(Model):
    """Share of traffic per role where the load balancer supports weights (vendor guide: 3 / 5)."""

    primary: int = Field(3, ge=0, le=999)
    replicas: int = Field(5, ge=0, le=999)

    @model_validator(mode="after")
    def _routes_somewhere(self) -> "Weights":
        if self.primary == 0 and self.replicas == 0:
            raise ValueError("primary and replicas are both 0: no request would reach any instance; give one a weight")
        return self


class LoadBalancerConfig(Model):
    # service: a Kubernetes Service (+ optional Ingress); nlb / alb: through the AWS Load Balancer Controller.
    mode: LoadBalancerMode = "service"
    # Internet-facing (nlb/alb) or internal.
    public: bool = True
    certificate_arn: Annotated[Optional[str], AfterValidator(check_certificate_arn)] = None
    access_logs_bucket: Optional[S3Bucket] = None
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    port: Port = 80
    sticky: bool = False
    sticky_timeout_seconds: int = Field(10800, ge=1, le=86400)
    weights: Weights = Weights()
    ingress: IngressConfig = IngressConfig()
