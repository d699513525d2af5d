"""Database variant rds: an RDS instance (encrypted, private, Multi-AZ, deletion protection,
backups, TLS forced) behind an RDS Proxy, which is the entry point: the app never sees the instance
endpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, Protocol

import pulumi
import pulumi_aws as aws

from components.aws.network import Network, physical_name, service_security_group
from components.database.contract import TLS_PARAMS, DatabaseEndpoint, Engine, RdsInstanceRef, endpoint


class RdsSettings(Protocol):
    """What the instance reads (the stack config's database.rds has this shape)."""

    @property
    def engine_version(self) -> str | None: ...  # None: the engine's default here

    @property
    def instance_class(self) -> str: ...

    @property
    def allocated_storage_gb(self) -> int: ...

    @property
    def max_allocated_storage_gb(self) -> int: ...  # the storage autoscaling ceiling

    @property
    def multi_az(self) -> bool: ...

    @property
    def backup_retention_days(self) -> int: ...


# Engine name, parameter group family prefix, the parameter that refuses clear-text connections,
# the proxy's engine family and the default version.
RDS = {
    "postgres": ("postgres", "postgres", "rds.force_ssl", "POSTGRESQL", "17"),
    "mysql": ("mysql", "mysql", "require_secure_transport", "MYSQL", "8.4"),
}


@dataclass(frozen=True, kw_only=True)
class RdsDatabase:
    kind: Literal["rds"] = "rds"
    settings: RdsSettings  # instance class, storage, versions, retention
    network: Network  # the EKS cluster's VPC, subnets and node security group
    password: pulumi.Input[str]  # the master password (a Pulumi secret)

    def declare(
        self,
        parent: pulumi.Resource,
        name: str,
        *,
        app_name: str,
        engine: Engine,
        port: int,
        database: str,
        user: str,
        protect: bool,
    ) -> DatabaseEndpoint:
        """The instance, its credentials and its proxy, children of `parent`; the proxy is the endpoint."""
        identifier = physical_name(app_name, "db")
        rds, network = self.settings, self.network
        engine_name, family, tls_parameter, proxy_family, default_version = RDS[engine]
        version = rds.engine_version or default_version
        child = pulumi.ResourceOptions(parent=parent)
        keep = pulumi.ResourceOptions(parent=parent, protect=protect)

        # The app reaches only the proxy; the instance admits only the proxy.
        proxy_sg = service_security_group(parent, f"{name}-proxy", network=network, service="database-proxy", port=port)
        instance_sg = service_security_group(
            parent,
            f"{name}-instance",
            network=network,
            service="database",
            port=port,
            source_security_group_id=proxy_sg.id,
        )
        # pulumi-aws strips AWS's default allow-all egress: the proxy needs its one way out, to the
        # instance (the other groups only answer, and security groups let answers out on their own).
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-proxy-sg-egress",
            security_group_id=proxy_sg.id,
            referenced_security_group_id=instance_sg.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"database-proxy to the database instance on {port}",
            opts=pulumi.ResourceOptions(parent=proxy_sg),
        )
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=identifier,
            subnet_ids=list(network.subnet_ids),
            description=f"{app_name} database: private subnets",
            opts=child,
        )
        # Parameter group families: postgres17, mysql8.4.
        family += ".".join(version.split(".")[: 2 if engine == "mysql" else 1])
        parameters = aws.rds.ParameterGroup(
            f"{name}-parameters",
            name=f"{identifier}-{family.replace('.', '-')}",
            family=family,
            description=f"{app_name} database: TLS required",
            parameters=[{"name": tls_parameter, "value": "1", "apply_method": "immediate"}],
            opts=child,
        )

        # Master credentials live in Secrets Manager, where the proxy reads them.
        credentials = aws.secretsmanager.Secret(
            f"{name}-credentials",
            name=f"{identifier}/credentials",
            recovery_window_in_days=30,
            description=f"{app_name} database master credentials (read by the RDS Proxy)",
            opts=keep,
        )
        # Secret in, so the JSON holding it stays secret.
        credentials_json = pulumi.Output.secret(self.password).apply(
            lambda p: json.dumps({"username": user, "password": p})
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-credentials-version",
            secret_id=credentials.id,
            secret_string=credentials_json,
            opts=pulumi.ResourceOptions(parent=credentials),
        )

        instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=identifier,
            engine=engine_name,
            engine_version=version,
            instance_class=rds.instance_class,
            allocated_storage=rds.allocated_storage_gb,
            max_allocated_storage=rds.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=database,
            username=user,
            password=pulumi.Output.secret(self.password),
            port=port,
            multi_az=rds.multi_az,
            publicly_accessible=False,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[instance_sg.id],
            parameter_group_name=parameters.name,
            iam_database_authentication_enabled=True,
            backup_retention_period=rds.backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=protect,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            auto_minor_version_upgrade=True,
            enabled_cloudwatch_logs_exports=["postgresql"] if engine == "postgres" else ["error", "slowquery"],
            # The identifier is fixed: a replacement must free it first (protect forbids one in production).
            opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(delete_before_replace=True)),
        )

        role = aws.iam.Role(
            f"{name}-proxy-role",
            description=f"{app_name} RDS Proxy: reads the database credentials",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                }
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-proxy-policy",
            role=role.id,
            policy=credentials.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": arn}
                        ],
                    }
                )
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        proxy = aws.rds.Proxy(
            f"{name}-proxy",
            name=f"{identifier}-proxy",
            engine_family=proxy_family,
            role_arn=role.arn,
            vpc_subnet_ids=list(network.subnet_ids),
            vpc_security_group_ids=[proxy_sg.id],
            require_tls=True,
            debug_logging=False,
            idle_client_timeout=1800,
            # NocoBase and New API authenticate with a password; IAM tokens are not an option for them.
            auths=[
                {
                    "auth_scheme": "SECRETS",
                    "secret_arn": credentials.arn,
                    "iam_auth": "DISABLED",
                    "description": "the app's database user",
                }
            ],
            opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(delete_before_replace=True)),
        )
        # The component's own children, so that depending on the Database waits for the target too (the SDK
        # stops at a custom parent): until it is registered, the proxy routes nowhere. They were the proxy's.
        moved = pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(parent=proxy)])
        target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-proxy-target-group",
            db_proxy_name=proxy.name,
            connection_pool_config={"max_connections_percent": 90, "connection_borrow_timeout": 120},
            opts=moved,
        )
        aws.rds.ProxyTarget(
            f"{name}-proxy-target",
            db_proxy_name=proxy.name,
            target_group_name=target_group.name,
            db_instance_identifier=instance.identifier,
            opts=moved,
        )
        return endpoint(
            engine,
            proxy.endpoint,
            port,
            database,
            user,
            self.password,
            params=TLS_PARAMS[engine],
            rds=RdsInstanceRef(identifier=instance.identifier, arn=instance.arn),
        )
