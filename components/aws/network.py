"""AWS conventions the managed-service modes share: physical names unique per stack, and a
security group per service that admits only the app's nodes on the service's port, every rule
described."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_aws as aws


class AwsSettings(Protocol):
    """Where the stack's AWS side goes (the stack config's `aws` has this shape)."""

    @property
    def region(self) -> str: ...
    @property
    def vpc_id(self) -> str: ...
    @property
    def private_subnet_ids(self) -> Sequence[str]:
        """The EKS cluster's private subnets, two or more zones."""

    @property
    def node_security_group_id(self) -> str:
        """The app's nodes: the one source the services admit."""


def physical_name(app_name: str, what: str) -> str:
    """`<app>-<what>-<6 hex>` for the AWS resources that must be given a name (identifiers, groups,
    vaults). The hex digests organization, project and stack, so two stacks or projects of one account
    never claim the same name; resources the provider names itself (security groups, IAM roles) are
    left to it. A resource whose replacement would reuse its name is declared delete-before-replace."""
    scope = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    return f"{app_name}-{what}-{hashlib.sha256(scope.encode()).hexdigest()[:6]}"


def connect(config: AwsSettings, app_name: str) -> tuple[aws.Provider, Network]:
    """The stack's AWS provider (every resource tagged with app and stack) and its network, looked up
    before anything is declared."""
    provider = aws.Provider(
        "aws",
        region=config.region,
        default_tags={"tags": {"appcluster:app": app_name, "appcluster:stack": pulumi.get_stack()}},
    )
    return provider, Network.discover(config.vpc_id, config.private_subnet_ids, config.node_security_group_id, provider)


@dataclass(frozen=True, kw_only=True)
class Network:
    """Where the EKS cluster runs; every managed service goes into its private subnets."""

    vpc_id: str
    subnet_ids: Sequence[str]
    # The EKS nodes' (or app pods') security group: the only source allowed in.
    app_security_group_id: str
    # One subnet per availability zone, the first given in each: EFS allows one mount target per zone.
    subnet_per_zone: Sequence[str] = ()

    @classmethod
    def discover(
        cls, vpc_id: str, subnet_ids: Sequence[str], app_security_group_id: str, provider: pulumi.ProviderResource
    ) -> Network:
        """Look the subnets up before anything is declared: Multi-AZ services need two zones, in our VPC."""
        invoke = pulumi.InvokeOptions(provider=provider)
        subnets = [aws.ec2.get_subnet(id=subnet, opts=invoke) for subnet in subnet_ids]
        foreign = [s.id for s in subnets if s.vpc_id != vpc_id]
        if foreign:
            raise ValueError(
                f"appcluster:aws.privateSubnetIds: {foreign} are not in {vpc_id} — give the EKS "
                "cluster's private subnets"
            )
        zones = sorted({s.availability_zone for s in subnets})
        if len(zones) < 2:
            raise ValueError(
                f"appcluster:aws.privateSubnetIds: all subnets are in {zones[0]} — Multi-AZ RDS, "
                "ElastiCache and EFS need private subnets in two or more availability zones"
            )
        per_zone: dict[str, str] = {}
        for s in subnets:
            per_zone.setdefault(s.availability_zone, s.id)
        return cls(
            vpc_id=vpc_id,
            subnet_ids=list(subnet_ids),
            app_security_group_id=app_security_group_id,
            subnet_per_zone=list(per_zone.values()),
        )


def service_security_group(
    parent: pulumi.Resource,
    name: str,
    *,
    network: Network,
    service: str,
    port: int,
    source_security_group_id: pulumi.Input[str] | None = None,
) -> aws.ec2.SecurityGroup:
    """A security group for one service, open on `port` to one source group only (the app's, by default)."""
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        description=f"appcluster {service}: reachable only from the app on port {port}",
        vpc_id=network.vpc_id,
        tags={"Name": f"{name}-{service}", "appcluster:service": service},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-sg-ingress",
        security_group_id=group.id,
        referenced_security_group_id=source_security_group_id or network.app_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=f"{service} clients (the app) on {port}",
        opts=pulumi.ResourceOptions(parent=group),
    )
    return group
