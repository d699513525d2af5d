"""AWS rules for the managed services appcluster creates (and anyone else's), with the checkov /
Security Hub IDs they mirror. Props arrive in camelCase, as the analyzer hands them over."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.policy import PolicyConfigSchema, Severity

from appcluster_policies.workloads import UNKNOWN, Report, fails, meta, plain

WEB_PORTS = {80, 443}
OPEN = {"0.0.0.0/0", "::/0"}
REQUIRED = PolicyConfigSchema(properties={"required": {"type": "boolean"}})


def _props(args: ResourceValidationArgs) -> dict[str, Any]:
    props: dict[str, Any] = plain(args.props)
    return props


# Where the database's data lives: an RDS instance, or an Aurora cluster (its instances hold none).
RDS_DATA = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster")
AURORA_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


def _rds_encrypted_private(args: ResourceValidationArgs, report: Report) -> None:
    p = _props(args)
    if args.resource_type in (AURORA_INSTANCE, "aws:rds/instance:Instance") and p.get("publiclyAccessible") is True:
        report("the instance is publicly accessible (CKV_AWS_17)")
    if args.resource_type not in RDS_DATA:
        return
    if fails(p.get("storageEncrypted"), True):
        report("storage is not encrypted (CKV_AWS_16)")
    if fails(p.get("iamDatabaseAuthenticationEnabled"), True):
        report("IAM database authentication is off (CKV_AWS_161)")


def _rds_backups(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in RDS_DATA:
        return
    p = _props(args)
    retention = p.get("backupRetentionPeriod")
    if retention is not UNKNOWN and (not isinstance(retention, (int, float)) or retention < 7):
        report(f"backupRetentionPeriod is {retention!r}: set it explicitly to 7 days or more (CKV_AWS_133)")
    if p.get("skipFinalSnapshot") is True or not p.get("finalSnapshotIdentifier"):
        report("no final snapshot on delete: set skipFinalSnapshot false and a stable finalSnapshotIdentifier")


def _rds_proxy_tls(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != "aws:rds/proxy:Proxy":
        return
    p = _props(args)
    if fails(p.get("requireTls"), True):
        report("requireTls is off: clients could connect in clear text (SH RDS.43)")
    if p.get("debugLogging") is True:
        report("debug logging is on: it can log SQL text and credentials")
    if any(fails(a.get("authScheme"), "SECRETS") for a in p.get("auths") or []):
        report("authentication must go through Secrets Manager")


def _elasticache(args: ResourceValidationArgs, report: Report) -> None:
    p = _props(args)
    if args.resource_type == "aws:elasticache/cluster:Cluster" and not p.get("replicationGroupId"):
        # A standalone cache cluster: one node, no failover, no AUTH token, no at-rest encryption.
        report(
            "a standalone ElastiCache cluster has no failover, AUTH token or at-rest encryption: use a "
            "replication group (CKV_AWS_29/31, CKV2_AWS_50)"
        )
        return
    if args.resource_type != "aws:elasticache/replicationGroup:ReplicationGroup":
        return
    if fails(p.get("transitEncryptionEnabled"), True):
        report("in-transit encryption is off (CKV_AWS_30)")
    if fails(p.get("atRestEncryptionEnabled"), True):
        report("at-rest encryption is off (CKV_AWS_29)")
    if not p.get("authToken"):
        report("no AUTH token (CKV_AWS_31)")
    if fails(p.get("automaticFailoverEnabled"), True) or fails(p.get("multiAzEnabled"), True):
        report("automatic failover and Multi-AZ must both be on (CKV2_AWS_50)")
    limit = p.get("snapshotRetentionLimit")
    if limit is not UNKNOWN and (not isinstance(limit, (int, float)) or limit < 1):
        report("snapshotRetentionLimit must be 1 day or more")


def _efs(args: ResourceValidationArgs, report: Report) -> None:
    p = _props(args)
    if args.resource_type == "aws:efs/fileSystem:FileSystem" and fails(p.get("encrypted"), True):
        report("the file system is not encrypted (CKV_AWS_42)")
    if args.resource_type == "aws:efs/accessPoint:AccessPoint":
        if (p.get("rootDirectory") or {}).get("path", "/") in ("/", ""):
            report("the access point exposes the file system's root '/' (CKV_AWS_330)")
        if not p.get("posixUser"):
            report("the access point enforces no POSIX user (CKV_AWS_329)")


def _security_groups(args: ResourceValidationArgs, report: Report) -> None:
    p = _props(args)
    rules = []
    if args.resource_type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        rules = [{**p, "cidrBlocks": [p.get("cidrIpv4"), p.get("cidrIpv6")]}]
    elif args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        if not p.get("description"):
            report("the security group has no description (CKV_AWS_23)")
        rules = p.get("ingress") or []
    elif args.resource_type == "aws:ec2/securityGroupRule:SecurityGroupRule" and p.get("type") == "ingress":
        rules = [p]
    for rule in rules:
        if args.resource_type != "aws:ec2/securityGroup:SecurityGroup" and not rule.get("description"):
            report("the rule has no description (CKV_AWS_23)")
        cidrs = set(rule.get("cidrBlocks") or []) | set(rule.get("ipv6CidrBlocks") or [])
        # Numbers cross the wire as doubles; no port range at all means every port.
        low, high = int(rule.get("fromPort") or 0), int(rule.get("toPort") or 65535)
        if cidrs & OPEN and not set(range(low, high + 1)) <= WEB_PORTS:
            report(f"open to the internet on ports {low}-{high}: only 80/443 may be (CKV_AWS_24/25/260)")


def _load_balancer_tls(args: ResourceValidationArgs, report: Report) -> None:
    p = _props(args)
    annotations = meta(p).get("annotations") or {}
    if args.resource_type == "kubernetes:networking.k8s.io/v1:Ingress":
        spec = p.get("spec") or {}
        if spec.get("ingressClassName") == "alb":
            attributes = str(annotations.get("alb.ingress.kubernetes.io/load-balancer-attributes", ""))
            if "routing.http.drop_invalid_header_fields.enabled=true" not in attributes:
                report("the ALB does not drop invalid headers (CKV_AWS_131)")
            if not annotations.get("alb.ingress.kubernetes.io/certificate-arn"):
                report("the ALB has no TLS certificate (CKV_AWS_2)")
            if annotations.get("alb.ingress.kubernetes.io/ssl-redirect") != "443":
                report("HTTP is not redirected to HTTPS (CKV2_AWS_20)")
        elif not spec.get("tls"):
            report("the Ingress serves no TLS (Polaris tlsSettingsMissing)")
    elif args.resource_type == "kubernetes:core/v1:Service" and annotations.get(
        "service.beta.kubernetes.io/aws-load-balancer-type"
    ) in ("external", "nlb"):
        if not annotations.get("service.beta.kubernetes.io/aws-load-balancer-ssl-cert"):
            report("the NLB terminates no TLS: set aws-load-balancer-ssl-cert (CKV_AWS_2)")


def _deletion_protection(args: ResourceValidationArgs, report: Report) -> None:
    # Required unless the environment's config says otherwise: no config never relaxes it.
    if not (args.get_config() or {}).get("required", True):
        return
    p = _props(args)
    if args.resource_type in RDS_DATA and fails(p.get("deletionProtection"), True):
        report("deletion protection is off (CKV_AWS_293)")
    if args.resource_type == "aws:rds/instance:Instance" and fails(p.get("multiAz"), True):
        report("the instance is not Multi-AZ (CKV_AWS_157)")
    annotations = meta(p).get("annotations") or {}
    attributes = str(
        annotations.get(
            "alb.ingress.kubernetes.io/load-balancer-attributes",
            annotations.get("service.beta.kubernetes.io/aws-load-balancer-load-balancer-attributes", ""),
        )
    )
    if attributes and "deletion_protection.enabled=true" not in attributes:
        report("the load balancer has no deletion protection (CKV_AWS_150)")


def _policy(
    name: str,
    description: str,
    validate: ResourceValidation,
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
    severity: Severity = Severity.HIGH,
    schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        severity=severity,
        config_schema=schema,
    )


AWS_POLICIES = [
    _policy(
        "rds-encrypted-private",
        "RDS storage encrypted, not public, IAM auth on. Anchor: CKV_AWS_16/17/161.",
        _rds_encrypted_private,
        severity=Severity.CRITICAL,
    ),
    _policy(
        "rds-backups-and-snapshots",
        "RDS backups kept 7 days or more (explicit) and a final snapshot with a stable "
        "identifier. Anchor: CKV_AWS_133, CKV2_AWS_69.",
        _rds_backups,
    ),
    _policy(
        "rds-proxy-tls",
        "RDS Proxy requires TLS, reads credentials from Secrets Manager, no debug logging. "
        "Anchor: Security Hub RDS.43.",
        _rds_proxy_tls,
    ),
    _policy(
        "elasticache-hardened",
        "ElastiCache encrypted at rest and in transit, AUTH token, failover and Multi-AZ, "
        "snapshots kept. Anchor: CKV_AWS_29/30/31, CKV2_AWS_50.",
        _elasticache,
    ),
    _policy(
        "efs-hardened",
        "EFS encrypted; access points enforce a POSIX user and a root other than '/'. Anchor: CKV_AWS_42/329/330.",
        _efs,
    ),
    _policy(
        "sg-no-open-data-ports",
        "Security groups described; nothing but 80/443 open to 0.0.0.0/0. Anchor: CKV_AWS_23/24/25/260.",
        _security_groups,
        severity=Severity.CRITICAL,
    ),
    _policy(
        "lb-tls-and-headers",
        "Load balancers terminate TLS, redirect HTTP to HTTPS and drop invalid headers. "
        "Anchor: CKV_AWS_2/131, CKV2_AWS_20, Polaris tlsSettingsMissing.",
        _load_balancer_tls,
    ),
    _policy(
        "deletion-protection",
        "Where the environment requires it: RDS deletion protection and Multi-AZ, load "
        "balancer deletion protection. Anchor: CKV_AWS_293/157/150.",
        _deletion_protection,
        schema=REQUIRED,
    ),
]
