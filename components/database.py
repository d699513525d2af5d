"""Database: the single entry point every instance connects to.

mode in-cluster: a PostgreSQL or MySQL StatefulSet behind one ClusterIP Service (the entry point).
mode rds: an RDS instance (encrypted, private, Multi-AZ, deletion protection, backups, TLS forced)
behind an RDS Proxy, which is the entry point: the app never sees the instance endpoint.
mode external: an existing server, proxy or pooler, from a DSN URL in a config secret.
Exposes the connection in every form the profiles bind to: host, port, name, user, password,
`url` (scheme://user:pass@host:port/db) and `dsn` (what Go drivers take: MySQL's
user:pass@tcp(host:port)/db, PostgreSQL's URL).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import quote, unquote, urlsplit

import json

import pulumi
import pulumi_aws as aws

from components import k8s as conv
from components.aws import Network, physical_name, service_security_group
from config.aws import RdsConfig
from profiles.wiring import Plain, Sensitive, Source

DB_UID = 999  # the postgres and mysql images' own users
URL_SCHEME = {"postgres": "postgres", "mysql": "mysql"}
DIALECT = {"postgres": "postgres", "mysql": "mysql"}
# RDS: engine name, parameter group family prefix, the parameter that refuses clear-text
# connections, and the proxy's engine family.
RDS = {
    "postgres": ("postgres", "postgres", "rds.force_ssl", "POSTGRESQL", "17"),
    "mysql": ("mysql", "mysql", "require_secure_transport", "MYSQL", "8.4"),
}
# Connection parameters that make the client insist on TLS (the proxy requires it).
TLS_PARAMS = {"postgres": "?sslmode=require", "mysql": "?tls=true"}


@dataclass
class DatabaseArgs:
    app_name: str
    namespace: pulumi.Input[str]
    mode: str
    engine: str
    port: int
    name: str = "appcluster"
    user: str = "appcluster"
    in_cluster: Optional[conv.ServerArgs] = None
    # mode rds
    rds: Optional[RdsConfig] = None
    network: Optional[Network] = None
    password: Optional[pulumi.Input[str]] = None
    protect: bool = True
    # mode external: the whole URL, credentials included (read at plan time from the config secret)
    url: Optional[str] = None


def _go_dsn(engine: str, user: str, password: str, host: str, port: int, db: str, params: str) -> str:
    if engine == "mysql":
        return f"{user}:{password}@tcp({host}:{port})/{db}{params}"
    return f"postgres://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{db}{params}"


@dataclass(frozen=True)
class ServerImage:
    """How the official postgres / mysql images are run, whichever platform runs them."""

    data_dir: str
    settings: dict[str, str]
    # The variables that receive the password (from a Secret, or the container's environment).
    password_env: tuple[str, ...]
    # Succeeds once the server accepts clients.
    ready_shell: str
    # Writable paths a read-only root filesystem must still provide.
    scratch: tuple[str, ...]


def server_image(engine: str, name: str, user: str) -> ServerImage:
    if engine == "postgres":
        data_dir = "/var/lib/postgresql/data"
        return ServerImage(
            data_dir=data_dir,
            # A subdirectory: the volume's root may hold lost+found, which initdb refuses.
            settings={"POSTGRES_DB": name, "POSTGRES_USER": user, "PGDATA": f"{data_dir}/pgdata"},
            password_env=("POSTGRES_PASSWORD",),
            ready_shell='pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
            scratch=("/var/run/postgresql", "/tmp"),
        )
    return ServerImage(
        data_dir="/var/lib/mysql",
        settings={"MYSQL_DATABASE": name, "MYSQL_USER": user},
        password_env=("MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"),
        ready_shell='MYSQL_PWD="$MYSQL_PASSWORD" mysqladmin ping -h 127.0.0.1 -u "$MYSQL_USER" --silent',
        scratch=("/var/run/mysqld", "/tmp"),
    )


def parse_url(url: str, port: int, name: str, user: str) -> tuple[str, int, str, str, str]:
    """host, port, database, user and password of a DSN URL, with defaults for what it leaves out."""
    parts = urlsplit(url)
    return (parts.hostname or "", parts.port or port, parts.path.lstrip("/") or name,
            unquote(parts.username or user), unquote(parts.password or ""))


def connection_bindings(engine: str, host: pulumi.Input[str], port: int, db: str, user: str,
                        password: pulumi.Input[str], params: str = "") -> dict[str, Source]:
    """The connection in every form a profile binds to; anything holding the password is Sensitive."""
    def secret(fn) -> Sensitive:
        return Sensitive(pulumi.Output.secret(pulumi.Output.all(password, host).apply(fn)))

    return {
        "database.dialect": Plain(DIALECT[engine]),
        "database.host": Plain(host),
        "database.port": Plain(str(port)),
        "database.name": Plain(db),
        "database.user": Plain(user),
        "database.password": Sensitive(pulumi.Output.secret(password)),
        "database.url": secret(lambda v: f"{URL_SCHEME[engine]}://{quote(user, safe='')}:{quote(v[0], safe='')}"
                                         f"@{v[1]}:{port}/{db}{params}"),
        "database.dsn": secret(lambda v: _go_dsn(engine, user, v[0], v[1], port, db, params)),
    }


class Database(pulumi.ComponentResource):
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    name: pulumi.Output[str]
    user: pulumi.Output[str]
    pod_labels: Mapping[str, str]
    bindings: dict[str, Source]
    # mode rds: what backups point at
    instance: Optional[aws.rds.Instance] = None

    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:Database", name, None, opts)
        self.pod_labels = conv.selector(args.app_name, "database")
        if args.mode == "external":
            host, port, db, user, plain_password = parse_url(args.url or "", args.port, args.name, args.user)
            password: pulumi.Input[str] = pulumi.Output.secret(plain_password)
            self.host = pulumi.Output.from_input(host)
        elif args.mode == "rds":
            db, user, port = args.name, args.user, args.port
            password = pulumi.Output.secret(args.password)
            self.host = self._rds(name, args)
        else:
            db, user, port = args.name, args.user, args.port
            password = pulumi.Output.secret(args.in_cluster.password)
            self.host = self._in_cluster(name, args)
        params = TLS_PARAMS[args.engine] if args.mode == "rds" else ""

        self.port = pulumi.Output.from_input(port)
        self.name = pulumi.Output.from_input(db)
        self.user = pulumi.Output.from_input(user)
        self.bindings = connection_bindings(args.engine, self.host, port, db, user, password, params)
        self.register_outputs({"host": self.host, "port": self.port, "name": self.name, "user": self.user})

    def _in_cluster(self, name: str, args: DatabaseArgs) -> pulumi.Output[str]:
        server = args.in_cluster
        image = server_image(args.engine, args.name, args.user)
        secret_ref = {"secretKeyRef": {"name": server.secret_name, "key": server.password_key}}
        env = [{"name": k, "value": v} for k, v in image.settings.items()]
        env += [{"name": k, "valueFrom": secret_ref} for k in image.password_env]
        ready = ["sh", "-c", image.ready_shell]
        data_dir, scratch = image.data_dir, image.scratch

        return conv.single_stateful_server(
            self, name, app=args.app_name, component="database", namespace=args.namespace, port=args.port,
            server=server, uid=DB_UID, data_path=data_dir, scratch_paths=scratch,
            # Let the server checkpoint and close cleanly on shutdown.
            grace_seconds=120,
            container={
                "name": args.engine,
                "env": env,
                "readinessProbe": conv.exec_probe(ready, period=5),
                "livenessProbe": conv.exec_probe(ready, period=20, failures=6),
                "startupProbe": conv.exec_probe(ready, period=5, failures=120),
            },
        )

    def _rds(self, name: str, args: DatabaseArgs) -> pulumi.Output[str]:
        rds, network = args.rds, args.network
        engine, family, tls_parameter, proxy_family, default_version = RDS[args.engine]
        version = rds.engine_version or default_version
        identifier = physical_name(args.app_name, "db")
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect)

        # The app reaches only the proxy; the instance admits only the proxy.
        proxy_sg = service_security_group(self, f"{name}-proxy", network=network, service="database-proxy", port=args.port)
        instance_sg = service_security_group(self, f"{name}-instance", network=network, service="database",
                                             port=args.port, source_security_group_id=proxy_sg.id)
        # pulumi-aws strips AWS's default allow-all egress: the proxy needs its one way out, to the
        # instance (the other groups only answer, and security groups let answers out on their own).
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-proxy-sg-egress", security_group_id=proxy_sg.id, referenced_security_group_id=instance_sg.id,
            ip_protocol="tcp", from_port=args.port, to_port=args.port,
            description=f"database-proxy to the database instance on {args.port}",
            opts=pulumi.ResourceOptions(parent=proxy_sg))
        subnets = aws.rds.SubnetGroup(f"{name}-subnets", name=identifier, subnet_ids=list(network.subnet_ids),
                                      description=f"{args.app_name} database: private subnets", opts=child)
        # Parameter group families: postgres17, mysql8.4.
        family += ".".join(version.split(".")[: 2 if args.engine == "mysql" else 1])
        parameters = aws.rds.ParameterGroup(
            f"{name}-parameters", name=f"{identifier}-{family.replace('.', '-')}", family=family,
            description=f"{args.app_name} database: TLS required",
            parameters=[{"name": tls_parameter, "value": "1", "apply_method": "immediate"}], opts=child)

        # Master credentials live in Secrets Manager, where the proxy reads them.
        credentials = aws.secretsmanager.Secret(
            f"{name}-credentials", name=f"{identifier}/credentials", recovery_window_in_days=30,
            description=f"{args.app_name} database master credentials (read by the RDS Proxy)", opts=keep)
        aws.secretsmanager.SecretVersion(
            f"{name}-credentials-version", secret_id=credentials.id,
            secret_string=pulumi.Output.secret(pulumi.Output.from_input(args.password).apply(
                lambda p: json.dumps({"username": args.user, "password": p}))),
            opts=pulumi.ResourceOptions(parent=credentials))

        instance = self.instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=identifier,
            engine=engine,
            engine_version=version,
            instance_class=rds.instance_class,
            allocated_storage=rds.allocated_storage_gb,
            max_allocated_storage=rds.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=args.name,
            username=args.user,
            password=pulumi.Output.secret(args.password),
            port=args.port,
            multi_az=rds.multi_az,
            publicly_accessible=False,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[instance_sg.id],
            parameter_group_name=parameters.name,
            iam_database_authentication_enabled=True,
            backup_retention_period=rds.backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=args.protect,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            auto_minor_version_upgrade=True,
            enabled_cloudwatch_logs_exports=["postgresql"] if args.engine == "postgres" else ["error", "slowquery"],
            # The identifier is fixed: a replacement must free it first (protect forbids one in production).
            opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(delete_before_replace=True)),
        )

        role = aws.iam.Role(
            f"{name}-proxy-role",
            description=f"{args.app_name} RDS Proxy: reads the database credentials",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-proxy-policy", role=role.id,
            policy=credentials.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": arn}]})),
            opts=pulumi.ResourceOptions(parent=role))
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
            auths=[{"auth_scheme": "SECRETS", "secret_arn": credentials.arn, "iam_auth": "DISABLED",
                    "description": "the app's database user"}],
            opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(delete_before_replace=True)),
        )
        target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-proxy-target-group", db_proxy_name=proxy.name,
            connection_pool_config={"max_connections_percent": 90, "connection_borrow_timeout": 120},
            opts=pulumi.ResourceOptions(parent=proxy))
        aws.rds.ProxyTarget(
            f"{name}-proxy-target", db_proxy_name=proxy.name, target_group_name=target_group.name,
            db_instance_identifier=instance.identifier, opts=pulumi.ResourceOptions(parent=proxy))
        return proxy.endpoint
