"""The AWS platform: ElastiCache, EFS, RDS behind RDS Proxy, NLB/ALB and security groups, as the
mocks capture them (the AWS provider never runs here)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pulumi
import pytest

from tests.conftest import env_of, k8s, one, props, secret_data
from tools.offline.harness import MOCK_REGION, is_secret

NODE_SG = "sg-0f1e2d3c4b5a69780"


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    from tests.conftest import REPO, stack_config
    from tools.offline import harness

    config, secret_keys = stack_config("prod", tmp=tmp_path_factory.mktemp("prod"))
    return harness.run_program(REPO, "prod", config, secret_keys, computed=harness.AWS_ENDPOINTS)


@pytest.fixture
def with_endpoints(tmp_path):
    """A stack run whose mocks answer the endpoints AWS computes (otherwise unknown, as in a preview)."""
    from tests.conftest import REPO, stack_config
    from tools.offline import harness

    def run(stack: str, **overrides):
        config, secret_keys = stack_config(stack, overrides, tmp_path)
        return harness.run_program(REPO, stack, config, secret_keys, computed=harness.AWS_ENDPOINTS)

    return run


def test_elasticache_is_multi_az_encrypted_with_auth_and_db_indexes(prod):
    group = one(prod, "aws:elasticache/replicationGroup:ReplicationGroup")
    p = props(group)
    assert (p["engine"], p["engineVersion"]) == ("valkey", "8.1")
    assert p["clusterMode"] == "disabled" and p["numCacheClusters"] >= 2
    assert p["automaticFailoverEnabled"] and p["multiAzEnabled"]
    assert p["atRestEncryptionEnabled"] and p["transitEncryptionEnabled"]
    assert is_secret(group.inputs["authToken"])
    assert p["snapshotRetentionLimit"] == 7 and p["finalSnapshotIdentifier"] == f"{p['replicationGroupId']}-final"
    assert group.protect
    params = props(one(prod, "aws:elasticache/parameterGroup:ParameterGroup"))
    assert params["family"] == "valkey8" and {"name": "maxmemory-policy", "value": "noeviction"} in params["parameters"]
    urls = secret_data(prod, "nocobase-connections")
    uses = [
        "CACHE_REDIS_URL",
        "PUBSUB_ADAPTER_REDIS_URL",
        "LOCK_ADAPTER_REDIS_URL",
        "QUEUE_ADAPTER_REDIS_URL",
        "REDIS_URL",
    ]
    parts = [urlsplit(urls[k]) for k in uses]
    assert {u.scheme for u in parts} == {"rediss"}
    assert [u.path for u in parts] == ["/0", "/1", "/2", "/3", "/4"]
    assert {u.hostname for u in parts} == {f"master.{p['replicationGroupId']}.x1y2z3.euw1.cache.amazonaws.com"}
    assert all(u.password == secret_data(prod, "nocobase-shared")["REDIS_PASSWORD"] for u in parts)
    assert not prod.of_type("kubernetes:apps/v1:StatefulSet")


def test_efs_is_encrypted_backed_up_and_mounted_through_an_access_point(prod):
    fs = one(prod, "aws:efs/fileSystem:FileSystem")
    assert props(fs)["encrypted"] is True and fs.protect
    assert props(one(prod, "aws:efs/backupPolicy:BackupPolicy"))["backupPolicy"] == {"status": "ENABLED"}
    mounts = prod.of_type("aws:efs/mountTarget:MountTarget")
    assert sorted(props(m)["subnetId"] for m in mounts) == [
        "subnet-0aa11bb22cc33dd40",
        "subnet-0aa11bb22cc33dd41",
        "subnet-0aa11bb22cc33dd42",
    ]
    ap = one(prod, "aws:efs/accessPoint:AccessPoint")
    assert props(ap)["posixUser"] == {"uid": 1000, "gid": 1000}
    assert props(ap)["rootDirectory"]["path"] == "/nocobase/storage" and ap.protect
    pv = props(k8s(prod, "PersistentVolume", "nocobase-nocobase-data"))["spec"]
    assert pv["csi"]["driver"] == "efs.csi.aws.com"
    handle_fs, _, handle_ap = pv["csi"]["volumeHandle"].partition("::")
    assert handle_fs.startswith("fs-") and handle_ap.startswith("fsap-")
    assert pv["mountOptions"] == ["tls"] and pv["accessModes"] == ["ReadWriteMany"]
    assert pv["persistentVolumeReclaimPolicy"] == "Retain"
    assert props(k8s(prod, "PersistentVolumeClaim", "nocobase-data"))["spec"]["volumeName"] == "nocobase-nocobase-data"


def test_rds_is_private_encrypted_protected_and_behind_the_proxy(prod):
    instance = one(prod, "aws:rds/instance:Instance")
    p = props(instance)
    assert p["storageEncrypted"] and not p["publiclyAccessible"] and p["multiAz"]
    assert p["deletionProtection"] and p["backupRetentionPeriod"] == 14
    assert p["finalSnapshotIdentifier"] == f"{p['identifier']}-final" and p["skipFinalSnapshot"] is False
    assert p["iamDatabaseAuthenticationEnabled"] and is_secret(instance.inputs["password"])
    assert instance.protect
    params = props(one(prod, "aws:rds/parameterGroup:ParameterGroup"))
    assert params["family"] == "postgres17"
    assert params["parameters"][0]["name"] == "rds.force_ssl" and params["parameters"][0]["value"] == "1"
    proxy = one(prod, "aws:rds/proxy:Proxy")
    pp = props(proxy)
    assert pp["requireTls"] and not pp["debugLogging"] and pp["engineFamily"] == "POSTGRESQL"
    assert pp["auths"][0]["authScheme"] == "SECRETS" and pp["auths"][0]["secretArn"].startswith(
        "arn:aws:secretsmanager:"
    )
    assert proxy.protect
    target = props(one(prod, "aws:rds/proxyTarget:ProxyTarget"))
    assert target["dbInstanceIdentifier"] == p["identifier"]
    assert one(prod, "aws:secretsmanager/secret:Secret").protect


def test_the_app_connects_to_the_proxy_endpoint_never_the_instance(prod):
    env = env_of(k8s(prod, "Deployment", "nocobase-primary"))
    host = env["DB_HOST"]["value"]
    proxy = props(one(prod, "aws:rds/proxy:Proxy"))["name"]
    assert host == f"{proxy}.proxy-c9akciq32.{MOCK_REGION}.rds.amazonaws.com"
    assert env["DB_DIALECT_OPTIONS_SSL_REJECT_UNAUTHORIZED"]["value"] == "true"
    assert prod.outputs["databaseHost"].value == host


def test_new_api_dsn_points_at_the_mysql_proxy_with_tls(with_endpoints):
    run = with_endpoints("prod-newapi")
    dsn = secret_data(run, "new-api-connections")["SQL_DSN"]
    proxy = props(one(run, "aws:rds/proxy:Proxy"))["name"]
    assert f"@tcp({proxy}.proxy-c9akciq32.eu-west-1.rds.amazonaws.com:3306)/newapi?tls=true" in dsn
    params = props(one(run, "aws:rds/parameterGroup:ParameterGroup"))
    assert params["family"] == "mysql8.4" and params["parameters"][0]["name"] == "require_secure_transport"
    assert props(one(run, "aws:rds/proxy:Proxy"))["engineFamily"] == "MYSQL"


def test_security_groups_admit_only_the_app_on_the_service_port(prod):
    groups = {r.urn: r for r in prod.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert len(groups) == 4  # redis, nfs, database proxy, database instance
    assert all(props(g)["description"] and "ingress" not in props(g) for g in groups.values())
    rules = prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert len(rules) == 4
    ports = {}
    for rule in rules:
        p = props(rule)
        assert p["description"] and "cidrIpv4" not in p and "cidrIpv6" not in p
        assert p["fromPort"] == p["toPort"] and p["ipProtocol"] == "tcp"
        ports[rule.name] = (p["fromPort"], p["referencedSecurityGroupId"])
    assert ports["redis-sg-ingress"] == (6379, NODE_SG)
    assert ports["shared-storage-sg-ingress"] == (2049, NODE_SG)
    assert ports["database-proxy-sg-ingress"] == (5432, NODE_SG)
    # The instance admits the proxy only: the single entry point holds at the network too.
    port, source = ports["database-instance-sg-ingress"]
    assert port == 5432 and source.startswith("sg-") and source != NODE_SG


def test_every_group_that_opens_connections_has_the_egress_they_need_and_no_more(prod):
    """pulumi-aws drops AWS's default allow-all egress, so a group that starts connections needs a
    rule: of ours, only the RDS Proxy does (to the instance); the others only answer."""
    groups = {r.urn: r for r in prod.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert all("egress" not in props(g) for g in groups.values())
    ingress = {
        props(r)["securityGroupId"]: props(r)
        for r in prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    }
    egress = prod.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert [e.name for e in egress] == ["database-proxy-sg-egress"]
    rule = props(egress[0])
    instance = ingress[rule["referencedSecurityGroupId"]]
    # Out of the proxy's group, to the instance's group, on the port the instance admits from the proxy.
    assert rule["securityGroupId"] == instance["referencedSecurityGroupId"]
    assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("tcp", instance["fromPort"], instance["toPort"])
    assert "cidrIpv4" not in rule and rule["description"]


def test_alb_ingress_terminates_tls_redirects_and_drops_invalid_headers(prod):
    ingress = props(k8s(prod, "Ingress", "nocobase"))
    a = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert a["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:eu-west-1:")
    assert a["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert a["alb.ingress.kubernetes.io/healthcheck-path"] == "/api/__health_check"
    attributes = a["alb.ingress.kubernetes.io/load-balancer-attributes"].split(",")
    assert {
        "deletion_protection.enabled=true",
        "routing.http.drop_invalid_header_fields.enabled=true",
        "access_logs.s3.enabled=true",
    } <= set(attributes)
    assert "stickiness.enabled=true" in a["alb.ingress.kubernetes.io/target-group-attributes"]
    assert ingress["spec"]["rules"][0]["host"] == "nocobase.example.com"


def test_alb_splits_new_api_traffic_with_the_vendor_weights(run_stack):
    run = run_stack("prod-newapi", loadBalancer={"mode": "alb"})
    ingress = props(k8s(run, "Ingress", "new-api"))
    import json

    action = json.loads(ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/actions.weighted"])
    groups = {g["serviceName"]: g["weight"] for g in action["forwardConfig"]["targetGroups"]}
    assert groups == {"new-api-primary": 3, "new-api-replicas": 5}
    assert props(k8s(run, "Service", "new-api-replicas"))["spec"]["selector"]["appcluster.io/role"] == "replicas"
    setup, rest = ingress["spec"]["rules"][0]["http"]["paths"]
    assert rest["path"] == "/" and rest["backend"]["service"] == {
        "name": "weighted",
        "port": {"name": "use-annotation"},
    }
    # Slaves read the setup state once at start (QuantumNous/new-api model/main.go CheckSetup): setup goes
    # to the master alone, ahead of the weighted split.
    assert setup["path"] == "/api/setup" and setup["backend"]["service"]["name"] == "new-api-primary"
    a = ingress["metadata"]["annotations"]
    # /api/status is behind the per-IP GlobalAPIRateLimit; /v1/models is outside it and answers 401 untokened.
    assert (a["alb.ingress.kubernetes.io/healthcheck-path"], a["alb.ingress.kubernetes.io/success-codes"]) == (
        "/v1/models",
        "401",
    )
    assert "idle_timeout.timeout_seconds=310" in a["alb.ingress.kubernetes.io/load-balancer-attributes"].split(",")


def test_alb_keeps_requests_open_past_nocobase_s_own_600_s(run_stack):
    a = props(k8s(run_stack("prod"), "Ingress", "nocobase"))["metadata"]["annotations"]
    assert "idle_timeout.timeout_seconds=610" in a["alb.ingress.kubernetes.io/load-balancer-attributes"].split(",")
    assert (a["alb.ingress.kubernetes.io/healthcheck-path"], a["alb.ingress.kubernetes.io/success-codes"]) == (
        "/api/__health_check",
        "200",
    )


def test_nlb_service_carries_the_controller_annotations(run_stack):
    svc = props(k8s(run_stack("prod-newapi"), "Service", "new-api"))
    a = svc["metadata"]["annotations"]
    assert svc["spec"]["type"] == "LoadBalancer" and svc["spec"]["ports"][0]["port"] == 443
    assert a["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
    # Its checks come from a few NLB addresses and must not count against New API's per-IP API rate limit.
    assert a["service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol"] == "TCP"
    assert "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path" not in a
    # IP targets of a TLS listener see the NLB's addresses otherwise: all clients in a few rate-limit buckets.
    assert (
        a["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"] == "preserve_client_ip.enabled=true"
    )
    assert a["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"].startswith("arn:aws:acm:")
    assert (
        a["service.beta.kubernetes.io/aws-load-balancer-load-balancer-attributes"] == "deletion_protection.enabled=true"
    )


def test_a_mixed_stack_keeps_in_cluster_redis_with_rds(run_stack):
    run = run_stack("prod", redis={"mode": "in-cluster"}, storage={"mode": "storage-class", "storageClass": "efs-sc"})
    assert not run.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    assert k8s(run, "StatefulSet", "nocobase-redis")
    assert one(run, "aws:rds/proxy:Proxy")


def test_unprotected_stack_turns_deletion_protection_off_too(run_stack):
    run = run_stack("prod", protect=False)
    assert not any(r.protect for r in run.resources)
    assert props(one(run, "aws:rds/instance:Instance"))["deletionProtection"] is False


def test_subnets_in_one_zone_are_refused_before_any_aws_resource(run_stack):
    # The mocked subnet lookup puts ids ending in 0 and 3 in the same zone.
    with pytest.raises(pulumi.RunError, match=r"appcluster:aws.privateSubnetIds: all subnets are in eu-west-1a"):
        run_stack("prod", aws={"privateSubnetIds": ["subnet-0aa11bb22cc33dd40", "subnet-0aa11bb22cc33dd43"]})


@pytest.mark.parametrize(
    "override,fragment",
    [
        ({"aws": None}, "appcluster:aws: null — redis.mode elasticache runs on AWS"),
        ({"aws": {"privateSubnetIds": ["subnet-0aa11bb22cc33dd40"]}}, "needs two or more private subnets"),
        ({"aws": {"vpcId": "vpc-xyz"}}, "appcluster:aws.vpcId: 'vpc-xyz' — must be an AWS id"),
        (
            {"loadBalancer": {"certificateArn": None}},
            "appcluster:loadBalancer.certificateArn: null — mode alb terminates TLS",
        ),
        ({"database": {"rds": {"backupRetentionDays": 3}}}, "appcluster:database.rds.backupRetentionDays: 3"),
    ],
)
def test_bad_aws_config_is_refused(run_stack, override, fragment):
    with pytest.raises(pulumi.RunError) as error:
        run_stack("prod", **override)
    assert fragment in str(error.value)


def test_new_api_log_database_is_a_second_proxied_rds(with_endpoints):
    run = with_endpoints("prod-newapi", database={"logDatabase": True})
    main, log = sorted(props(p)["name"] for p in run.of_type("aws:rds/proxy:Proxy"))
    assert re.fullmatch(r"new-api-db-[0-9a-f]{6}-proxy", main) and re.fullmatch(
        r"new-api-log-db-[0-9a-f]{6}-proxy", log
    )
    data = secret_data(run, "new-api-connections")
    assert f"@tcp({log}.proxy-c9akciq32.eu-west-1.rds.amazonaws.com:3306)/" in data["LOG_SQL_DSN"]
    assert f"@tcp({main}.proxy-" in data["SQL_DSN"]
    shared = secret_data(run, "new-api-shared")
    assert shared["LOG_DATABASE_PASSWORD"] != shared["DATABASE_PASSWORD"]
    assert all(i.protect for i in run.of_type("aws:rds/instance:Instance"))


def test_efs_gets_one_mount_target_per_zone_even_with_two_subnets_in_one(run_stack):
    # The mocks put subnets ending in 0 and 3 in zone a, 1 in zone b: EFS refuses a second target in a.
    subnets = ["subnet-0aa11bb22cc33dd40", "subnet-0aa11bb22cc33dd43", "subnet-0aa11bb22cc33dd41"]
    run = run_stack("prod", aws={"privateSubnetIds": subnets})
    assert sorted(props(m)["subnetId"] for m in run.of_type("aws:efs/mountTarget:MountTarget")) == [
        "subnet-0aa11bb22cc33dd40",
        "subnet-0aa11bb22cc33dd41",
    ]
    # The other services take every subnet given.
    assert props(one(run, "aws:rds/subnetGroup:SubnetGroup"))["subnetIds"] == subnets
