"""Every invalid value is refused before any resource is declared, with a message naming the key,
the value and what is allowed."""

from __future__ import annotations

import pulumi
import pytest

from config import ConfigError, from_settings, load
from tests.conftest import REPO, STACKS, stack_config

STORAGE = {"storage": {"storageClass": "nfs-client"}}


# An image that bundles NocoBase's cluster plugins: what more than one NocoBase instance needs.
BUNDLED = {"clusterPluginsInImage": True}


def cfg(**concerns):
    return {**STORAGE, **concerns}


BAD = [
    # Cross-field sense: what validates field by field but a real apply would refuse or misread.
    (
        cfg(app={"profile": "new-api", "resources": {"cpuRequest": "2", "cpuLimit": "500m"}}),
        ["appcluster:app.resources", "cpuRequest 2 is more than cpuLimit 500m"],
    ),
    (
        cfg(app={"profile": "new-api", "resources": {"memoryRequest": "2Gi", "memoryLimit": "1024Mi"}}),
        ["memoryRequest 2Gi is more than memoryLimit 1024Mi"],
    ),
    (
        cfg(app={"profile": "new-api"}, database={"rds": {"allocatedStorageGb": 200, "maxAllocatedStorageGb": 100}}),
        ["appcluster:database.rds", "maxAllocatedStorageGb (100) is below allocatedStorageGb (200)"],
    ),
    (
        cfg(
            app={"profile": "new-api"},
            database={"mode": "rds", "engine": "postgres", "rds": {"engineVersion": "8.4"}},
            aws={
                "region": "eu-west-1",
                "vpcId": "vpc-0a1b2c3d4e5f60718",
                "nodeSecurityGroupId": "sg-0f1e2d3c4b5a69780",
                "privateSubnetIds": ["subnet-0aa11bb22cc33dd40", "subnet-0aa11bb22cc33dd41"],
            },
        ),
        ["appcluster:database.rds.engineVersion: '8.4'", "no PostgreSQL version"],
    ),
    (
        cfg(app={"profile": "new-api"}, database={"engine": "postgres", "image": "mysql:8.4.6"}),
        ["appcluster:database.image: 'mysql:8.4.6'", "not a postgres server image"],
    ),
    (
        cfg(app={"profile": "new-api"}, loadBalancer={"weights": {"primary": 0, "replicas": 0}}),
        ["appcluster:loadBalancer.weights", "no request would reach any instance"],
    ),
    (
        cfg(app={"profile": "new-api", "build": {"context": "images/nocobase", "tag": "latest"}}),
        ["appcluster:app.build.tag: 'latest'", "names no version"],
    ),
    (
        cfg(app={"profile": "new-api"}, storage={"mode": "nfs", "nfs": {"server": "nfs.local", "path": "exports/app"}}),
        ["appcluster:storage.nfs.path: 'exports/app'"],
    ),
    (
        cfg(app={"profile": "new-api", "timezone": "Mars/Olympus"}),
        ["appcluster:app.timezone: 'Mars/Olympus'", "IANA time zone name"],
    ),
    (
        cfg(app={"profile": "new-api"}, backup={"schedule": "0 25 * * *"}),
        ["appcluster:backup.schedule: '0 25 * * *'", "hour 25 is out of range: hours run 0–23"],
    ),
    (
        cfg(app={"profile": "new-api"}, kubernetes={"spreadTopologyKeys": ["zone name"]}),
        ["appcluster:kubernetes.spreadTopologyKeys.0: 'zone name'", "node label key"],
    ),
    # app.env may not set what the program derives or counts, even where this config does not set it.
    (
        cfg(app={"profile": "nocobase", "replicas": 1, "env": {"CLUSTER_MODE": "4"}}),
        ["appcluster:app.env.CLUSTER_MODE", "wired by appcluster"],
    ),
    (
        cfg(app={"profile": "new-api", "env": {"NODE_TYPE": "master"}}),
        ["appcluster:app.env.NODE_TYPE", "wired by appcluster"],
    ),
    # YAML types: refused, not coerced, with the words and the CLI flag that fix them.
    (
        cfg(app={"profile": "new-api", "autoscaling": {"enabled": "yes"}}),
        ["appcluster:app.autoscaling.enabled: 'yes'", "must be true or false, unquoted", "--type bool"],
    ),
    (cfg(app={"profile": "new-api", "replicas": "3"}), ["appcluster:app.replicas: '3'", "whole number", "--type int"]),
    (
        cfg(app={"profile": "new-api", "resources": {"cpuLimit": 1}}),
        ["appcluster:app.resources.cpuLimit: 1", "must be text: quote it"],
    ),
    (cfg(app={"profile": "new-api"}, maintenance="true"), ["appcluster:maintenance: 'true'", "true or false"]),
    (cfg(app="new-api"), ["appcluster:app: 'new-api'", "must be a mapping"]),
    # Values with a shape (names, paths, versions): the rule in words and an example, never a regex.
    (
        cfg(app={"profile": "new-api", "build": {"context": "/abs", "tag": "1.0"}}),
        ["appcluster:app.build.context: '/abs'", "relative to the project folder"],
    ),
    (
        cfg(
            app={
                "profile": "new-api",
                "build": {"context": "images/x", "tag": "1.0", "registry": {"repository": "Shop_App"}},
            }
        ),
        ["appcluster:app.build.registry.repository: 'Shop_App'", "2-256 characters", "e.g. team/nocobase"],
    ),
    (cfg(app={"profile": "new-api", "build": {"context": "images/x", "tag": "-rc1"}}), ["'-rc1'", "Docker tag"]),
    (
        cfg(app={"profile": "nocobase", "replicas": 1, "workers": [{"name": "w", "mode": "workflow"}]}),
        ["appcluster:app.workers.0.mode: 'workflow'", "<plugin>:<task> pairs"],
    ),
    (
        cfg(app={"profile": "new-api"}, database={"name": "9shop"}),
        ["appcluster:database.name: '9shop'", "SQL identifier"],
    ),
    (
        cfg(app={"profile": "new-api"}, redis={"elasticache": {"nodeType": "r7g.large"}}),
        ["appcluster:redis.elasticache.nodeType: 'r7g.large'", "e.g. cache.r7g.large"],
    ),
    (
        cfg(app={"profile": "new-api"}, storage={"mode": "efs", "efs": {"rootDirectory": "/"}}),
        ["appcluster:storage.efs.rootDirectory: '/'", "below '/'"],
    ),
    (
        cfg(app={"profile": "new-api"}, loadBalancer={"ingress": {"host": "https://shop.example.com"}}),
        ["appcluster:loadBalancer.ingress.host: 'https://shop.example.com'", "no scheme or port"],
    ),
    (
        cfg(
            app={"profile": "new-api"},
            backup={"s3": {"bucket": "My_Bucket", "roleArn": "arn:aws:iam::123456789012:role/b"}},
        ),
        ["appcluster:backup.s3.bucket: 'My_Bucket'", "S3 bucket name"],
    ),
    # (raw config, fragments the one message must contain)
    (
        cfg(app={"profile": "nocobase", "replicas": 40}),
        ["appcluster:app.replicas", "40", "must be between 1 and 32: snowflake worker IDs run 0–31"],
    ),
    (cfg(app={"profile": "nocobase", "replicas": 0}), ["appcluster:app.replicas", "0", "must be between 1 and 32"]),
    (
        cfg(app={"profile": "nocobase", "replicas": 8, "processesPerInstance": 5}),
        ["appcluster:app.replicas", "8", "= 40 exceeds 32"],
    ),
    (
        cfg(app={"profile": "new-api", "processesPerInstance": 2}),
        ["appcluster:app.processesPerInstance", "2", "runs one process per instance (several: nocobase)"],
    ),
    (
        cfg(app={"profile": "nocobase", "autoscaling": {"enabled": True, "minReplicas": 9, "maxReplicas": 4}}),
        ["appcluster:app.autoscaling", "minReplicas (9) must not exceed maxReplicas (4)"],
    ),
    (
        cfg(app={"profile": "nocobase", "autoscaling": {"enabled": True, "maxReplicas": 32}}),
        ["appcluster:app.autoscaling.maxReplicas", "32", "less than or equal to 31"],
    ),
    (
        cfg(
            app={"profile": "nocobase", "processesPerInstance": 2, "autoscaling": {"enabled": True, "maxReplicas": 20}}
        ),
        ["appcluster:app.autoscaling.maxReplicas", "20", "= 42 exceeds 32", "at most 15"],
    ),
    (
        cfg(app={"profile": "nocobase", "replcas": 3}),
        ["appcluster:app.replcas", "unknown key", "did you mean 'replicas'"],
    ),
    (cfg(app={"profile": "nocobase"}, databse={}), ["appcluster:databse", "unknown key", "did you mean 'database'"]),
    (
        cfg(app={"profile": "wordpress"}),
        ["appcluster:app.profile", "'wordpress'", "'nocobase', 'new-api' or 'generic'"],
    ),
    (
        cfg(app={"profile": "new-api"}, database={"engine": "sqlite"}),
        ["appcluster:database.engine", "'sqlite'", "cannot be shared by 3 instances"],
    ),
    (
        cfg(app={"profile": "new-api", "replicas": 1}, database={"engine": "sqlite", "mode": "external"}),
        ["appcluster:database.mode", "external"],
    ),
    (
        cfg(app={"profile": "new-api"}, secrets={"sessionSecret": "random_string"}),
        ["appcluster:secrets.sessionSecret", "[secret]", "random_string"],
    ),
    (
        cfg(app={"profile": "new-api"}, secrets={"cryptoSecret": "short"}),
        ["appcluster:secrets.cryptoSecret", "at least 16"],
    ),
    (
        cfg(app={"profile": "nocobase"}, secrets={"appAesSecretKey": "abc"}),
        ["appcluster:secrets.appAesSecretKey", "[secret]", "64 hex"],
    ),
    (cfg(app={"profile": "nocobase", "image": "nocobase/nocobase"}), ["appcluster:app.image", "pinned"]),
    (cfg(app={"profile": "nocobase", "image": "nocobase/nocobase:latest"}), ["appcluster:app.image", "'latest'"]),
    (cfg(app={"profile": "nocobase", "image": "Not An Image:1"}), ["appcluster:app.image", "pinned image reference"]),
    (cfg(app={"profile": "nocobase", "port": 70000}), ["appcluster:app.port", "70000", "between 1 and 65535"]),
    (
        cfg(app={"profile": "nocobase", "resources": {"cpuRequest": "lots"}}),
        ["appcluster:app.resources.cpuRequest", "'lots'", "Kubernetes quantity"],
    ),
    (
        cfg(app={"profile": "nocobase", "resources": {"memoryLimit": "1 GB"}}),
        ["appcluster:app.resources.memoryLimit", "'1 GB'"],
    ),
    (
        cfg(app={"profile": "nocobase"}, storage={"storageClass": "x", "size": "ten"}),
        ["appcluster:storage.size", "'ten'"],
    ),
    (
        cfg(app={"profile": "new-api", "frontendBaseUrl": "not a url"}),
        ["appcluster:app.frontendBaseUrl", "'not a url'", "URL"],
    ),
    (
        cfg(app={"profile": "nocobase"}, redis={"mode": "external"}),
        ["appcluster:secrets.redisUrl", "required by mode external"],
    ),
    (
        cfg(app={"profile": "nocobase"}, redis={"mode": "external"}, secrets={"redisUrl": "http://cache:6379"}),
        ["appcluster:secrets.redisUrl", "[secret]", "scheme redis or rediss"],
    ),
    (
        cfg(
            app={"profile": "nocobase"},
            database={"mode": "external", "engine": "mysql"},
            secrets={"databaseUrl": "postgres://u:p@db:5432/app"},
        ),
        ["appcluster:secrets.databaseUrl", "scheme mysql"],
    ),
    ({"app": {"profile": "nocobase"}}, ["appcluster: storage is required", "storageClass"]),
    (
        cfg(app={"profile": "nocobase"}, storage={"mode": "nfs"}),
        ["appcluster:storage", "nfs: {server, path} is required"],
    ),
    (
        cfg(app={"profile": "nocobase"}, storage={"mode": "storage-class"}) | {"storage": {"mode": "storage-class"}},
        ["storageClass is required", "ReadWriteMany"],
    ),
    (
        cfg(app={"profile": "generic", "image": "ghcr.io/acme/app:1.0"}),
        ["appcluster:app.healthPath", "profile generic"],
    ),
    (
        cfg(app={"profile": "nocobase", "generic": {}}),
        ["appcluster:app.generic", "does not read app.generic (only generic do)"],
    ),
    (
        cfg(
            app={
                "profile": "generic",
                "image": "acme/app:1",
                "port": 8080,
                "healthPath": "/health",
                "dataPath": "/data",
                "generic": {"envMap": {"DB": "database.everything"}},
            }
        ),
        ["appcluster:app.generic.envMap.DB", "must be one of"],
    ),
    (
        cfg(app={"profile": "nocobase", "env": {"APP_KEY": "plain"}}),
        ["appcluster:app.env.APP_KEY", "wired by appcluster"],
    ),
    (
        cfg(app={"profile": "nocobase"}, database={"logDatabase": True}),
        [
            "appcluster:database.logDatabase",
            "keeps no logs in a second database (only new-api on postgres or mysql do)",
        ],
    ),
    (
        cfg(
            app={"profile": "new-api"},
            database={"logDatabase": True, "mode": "external"},
            secrets={"databaseUrl": "postgres://u:p@db:5432/app"},
        ),
        ["appcluster:secrets.logDatabaseUrl", "required"],
    ),
    (
        cfg(app={"profile": "nocobase"}, kubernetes={"namespace": "Bad_NS"}),
        ["appcluster:kubernetes.namespace", "'Bad_NS'", "DNS label"],
    ),
    (
        cfg(app={"profile": "nocobase"}, loadBalancer={"ingress": {"enabled": True}}),
        ["appcluster:loadBalancer.ingress.host", "needs a host"],
    ),
    (
        cfg(app={"profile": "nocobase"}, loadBalancer={"serviceType": "NodePort"}),
        ["appcluster:loadBalancer.serviceType", "'NodePort'", "'ClusterIP' or 'LoadBalancer'"],
    ),
    # A per-app setting of another profile would be silently ignored: refused, naming its reader.
    (
        cfg(app={"profile": "new-api", "plugins": ["x"]}),
        ["appcluster:app.plugins", '["x"]', "only profile nocobase reads it", "remove it"],
    ),
    (
        cfg(app={"profile": "new-api", "rootEmail": "root@example.org"}),
        ["appcluster:app.rootEmail", "only profile nocobase reads it"],
    ),
    (
        cfg(app={"profile": "nocobase", **BUNDLED, "frontendBaseUrl": "https://ui.example.com"}),
        ["appcluster:app.frontendBaseUrl", "only profile new-api reads it"],
    ),
    (
        cfg(app={"profile": "nocobase", **BUNDLED, "syncFrequencySeconds": 30}),
        ["appcluster:app.syncFrequencySeconds", "30", "only profile new-api reads it"],
    ),
]


@pytest.mark.parametrize("raw,fragments", BAD, ids=[f[0] for _, f in BAD])
def test_bad_input_is_refused_with_a_message_naming_key_value_and_fix(raw, fragments):
    with pytest.raises(ConfigError) as error:
        load(raw)
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "Traceback" not in message and "should match pattern" not in message


def test_no_field_is_checked_by_a_bare_regex():
    """pydantic's own pattern message prints the regex: every shaped string states its rule instead."""
    from config.base import Model

    def models(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from models(sub)

    checked = 0
    for model in set(models(Model)):
        for name, field in model.model_fields.items():
            assert not [c for c in field.metadata if getattr(c, "pattern", None)], (
                f"{model.__name__}.{name} uses Field(pattern=...): use config.base.matching"
            )
            checked += 1
    assert checked > 100


def test_secret_values_never_appear_in_messages():
    with pytest.raises(ConfigError) as error:
        load(
            cfg(
                app={"profile": "new-api"}, secrets={"sessionSecret": "random_string", "cryptoSecret": "hunter2hunter2"}
            )
        )
    message = str(error.value)
    assert "hunter2" not in message
    assert message.count("[secret]") == 2


def test_defaults_are_safe_for_production():
    c = load(cfg(app={"profile": "nocobase", **BUNDLED}))
    assert c.protect is True
    assert c.app.replicas == 3
    assert c.app_image == "nocobase/nocobase:2.2.15" and c.app_port == 80
    assert c.redis.image.startswith("redis:8.")
    assert c.load_balancer.service_type == "ClusterIP"


def test_no_nginx_image_listens_on_13000():
    assert (
        load(cfg(app={"profile": "nocobase", "image": "nocobase/nocobase:2.2.15-full-no-nginx", **BUNDLED})).app_port
        == 13000
    )


def test_limits_at_the_edge_are_accepted():
    c = load(cfg(app={"profile": "nocobase", "replicas": 16, "processesPerInstance": 2, **BUNDLED}))
    assert c.max_instances == 32
    c = load(
        cfg(app={"profile": "nocobase", "replicas": 2, "autoscaling": {"enabled": True, "maxReplicas": 31}, **BUNDLED})
    )
    assert c.max_instances == 32


@pytest.mark.parametrize("stack", STACKS)
def test_every_example_stack_is_valid(stack, tmp_path):
    config, _ = stack_config(stack, tmp=tmp_path)
    assert load(from_settings(config)).app.profile in ("nocobase", "new-api", "generic")


def test_program_refuses_bad_config_before_declaring_anything(run_stack):
    with pytest.raises(pulumi.RunError, match=r"appcluster:app.replicas: 33"):
        run_stack("dev", app={"replicas": 33})


def test_secrets_in_plain_text_in_the_stack_file_are_refused_with_the_command_that_fixes_it(tmp_path):
    from tools.offline import harness

    config, secret_keys = stack_config("local", tmp=tmp_path)
    config["appcluster:secrets"] = '{"sessionSecret": "s3cr3t-value-in-plain-text"}'
    assert "appcluster:secrets" not in secret_keys  # written without `secure:`
    with pytest.raises(pulumi.RunError) as error:
        harness.run_program(REPO, "local", config, secret_keys)
    message = str(error.value)
    assert message.startswith("appcluster:secrets: sessionSecret given in plain text in the stack file")
    assert "`pulumi config set --secret --path appcluster:secrets.sessionSecret <value>`" in message
    assert "s3cr3t" not in message


def test_a_near_miss_of_the_namespace_is_refused_not_ignored():
    with pytest.raises(ConfigError) as error:
        from_settings({"appclustr:app": '{"replicas": 40}', "appcluster:app": '{"profile": "new-api"}'})
    assert str(error.value).startswith("appclustr:app: unknown namespace 'appclustr' (did you mean 'appcluster:app'?)")
    assert from_settings({"kubernetes:context": "x", "pulumi:template": "y"}) == {}


@pytest.mark.parametrize(
    "name,fragment",
    [
        ("a" * 25, "is 25 characters; at most 24"),
        ("shop--eu", "must not contain '--'"),
    ],
)
def test_app_names_that_a_derived_name_would_break_are_refused(name, fragment):
    with pytest.raises(ConfigError) as error:
        load(cfg(app={"profile": "new-api", "name": name}))
    assert str(error.value).startswith(f"appcluster:app.name: '{name}'") and fragment in str(error.value)


# Each service's own naming rule for the names we derive (Kubernetes API conventions; AWS API
# references: CreateDBInstance, CreateDBProxy, CreateReplicationGroup, CreateSecret, CreateBackupVault,
# CreateRepository, CreateRole...). (pattern, max length); "identifier" means a letter first, then
# letters, digits and single hyphens, no hyphen last.
IDENTIFIER = r"[a-z](?:-?[a-z0-9])*"
DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = rf"{DNS_LABEL}(?:\.{DNS_LABEL})*"
# A StatefulSet's pods carry its name plus an 11-character revision hash in a 63-character label;
# a CronJob's Jobs append 11 characters to its name.
KUBERNETES_RULES = {
    "Job": (DNS_LABEL, 63),
    "CronJob": (DNS_LABEL, 52),
    "Service": (DNS_LABEL, 63),
    "StatefulSet": (DNS_LABEL, 52),
    "Deployment": (DNS_LABEL, 63),
}
AWS_RULES = {
    ("aws:rds/instance:Instance", "identifier"): (IDENTIFIER, 63),
    ("aws:rds/instance:Instance", "finalSnapshotIdentifier"): (IDENTIFIER, 255),
    ("aws:rds/proxy:Proxy", "name"): (IDENTIFIER, 60),
    ("aws:rds/snapshot:Snapshot", "dbSnapshotIdentifier"): (IDENTIFIER, 255),
    ("aws:rds/subnetGroup:SubnetGroup", "name"): (r"[a-z0-9._ -]+", 255),
    ("aws:rds/parameterGroup:ParameterGroup", "name"): (IDENTIFIER, 255),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "replicationGroupId"): (IDENTIFIER, 40),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "finalSnapshotIdentifier"): (IDENTIFIER, 255),
    ("aws:elasticache/subnetGroup:SubnetGroup", "name"): (r"[a-z0-9-]+", 255),
    ("aws:elasticache/parameterGroup:ParameterGroup", "name"): (IDENTIFIER, 255),
    ("aws:secretsmanager/secret:Secret", "name"): (r"[A-Za-z0-9/_+=.@-]+", 512),
    ("aws:backup/vault:Vault", "name"): (r"[A-Za-z0-9_-]{2,}", 50),
    ("aws:backup/plan:Plan", "name"): (r"[A-Za-z0-9_.-]+", 50),
    ("aws:backup/selection:Selection", "name"): (r"[A-Za-z0-9_.-]+", 50),
    ("aws:ecr/repository:Repository", "name"): (r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*", 256),
}
# Named by the provider: "<logical name>-<7 hex>" must fit (pattern of the whole, max length).
AUTONAMED = {
    "aws:iam/role:Role": (r"[\w+=,.@-]+", 64),
    "aws:iam/rolePolicy:RolePolicy": (r"[\w+=,.@-]+", 128),
    "aws:ec2/securityGroup:SecurityGroup": (r"[ -~]+", 255),
}
NAME_PROPERTIES = {"name", "identifier", "replicationGroupId", "dbSnapshotIdentifier", "finalSnapshotIdentifier"}


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-newapi", "local"])
def test_the_longest_allowed_app_name_yields_names_every_service_accepts(stack, run_stack):
    import re

    from tools.offline.harness import reveal

    longest = "a" * 24
    version = "2.2.15-" + "x" * 30 if stack in ("dev", "prod") else "v0.9.0-" + "x" * 30
    image = ("nocobase/nocobase:" if stack in ("dev", "prod") else "calciumion/new-api:") + version
    app = {"name": longest, "image": image}
    if stack in ("dev", "prod"):
        app["workers"] = [{"name": "w" * 20, "mode": "*"}]
    if stack == "prod":  # an image built here and pushed to an ECR repository named after the app
        app["build"] = {"context": "images/nocobase", "tag": version}
    run = run_stack(stack, app=app, database={"logDatabase": True} if stack == "local" else {})
    checked = set()
    for r in run.resources:
        inputs = reveal(r.inputs)
        if r.is_kubernetes:
            name = inputs["metadata"]["name"]
            pattern, limit = KUBERNETES_RULES.get(inputs["kind"], (DNS_SUBDOMAIN, 253))
            assert re.fullmatch(pattern, name) and len(name) <= limit, (inputs["kind"], name, limit)
            checked.add(inputs["kind"])
        elif r.type in AUTONAMED:
            pattern, limit = AUTONAMED[r.type]
            name = inputs["name"]  # the provider's auto-name, as the mocks give it
            assert re.fullmatch(pattern, name) and len(name) <= limit, (r.type, name, limit)
            checked.add(r.type)
        elif r.type.startswith("aws:"):
            for key in NAME_PROPERTIES & set(inputs):
                assert (r.type, key) in AWS_RULES, f"{r.type}.{key}: a name with no rule in this test"
                pattern, limit = AWS_RULES[(r.type, key)]
                assert re.fullmatch(pattern, inputs[key]) and len(inputs[key]) <= limit, (r.type, key, inputs[key])
                checked.add(r.type)
    assert len(checked) > 8, checked
    assert stack != "prod" or {"aws:ecr/repository:Repository", "aws:iam/role:Role"} <= checked


@pytest.mark.parametrize(
    "image,refused",
    [
        ("nocobase/nocobase:1.9.62", True),
        ("nocobase/nocobase:2.0.62", True),
        ("nocobase/nocobase:2.1.0", False),
        ("nocobase/nocobase:2.2.15", False),
    ],
)
def test_nocobase_that_untars_itself_at_start_is_refused_on_an_efs_access_point(image, refused, tmp_path):
    """Before 2.1 the image's entrypoint untars the app as root onto the storage volume at every start;
    the access point's uid 1000 makes tar's chown fail and the pod crash-loop."""
    one = {"replicas": 1, "autoscaling": {"enabled": False}}  # before 2.1.24 NocoBase runs one instance
    config, _ = stack_config(
        "prod", {"app": {"image": image, "firstVersion": image.rsplit(":", 1)[1], **one}}, tmp=tmp_path
    )
    if not refused:
        assert load(from_settings(config)).storage.mode == "efs"
        return
    with pytest.raises(ConfigError) as error:
        load(from_settings(config))
    assert str(error.value).startswith("appcluster:storage.mode: 'efs' — nocobase ")
    assert "crash-loops on an EFS access point" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "image,app,key",
    [
        ("nocobase/nocobase:1.9.62", {"replicas": 2}, "app.replicas: 2"),
        ("nocobase/nocobase:2.0.0", {"replicas": 2}, "app.replicas: 2"),
        ("nocobase/nocobase:2.1.23", {"replicas": 1, "processesPerInstance": 2}, "app.processesPerInstance: 2"),
        (
            "nocobase/nocobase:2.1.23",
            {"replicas": 1, "workers": [{"name": "jobs", "mode": "*", "replicas": 1}]},
            'app.workers: ["jobs"]',
        ),
        ("nocobase/nocobase:2.1.24", {"replicas": 2}, None),
    ],
)
def test_nocobase_whose_cache_shares_the_worker_id_db_runs_one_instance(image, app, key, tmp_path):
    """Up to 2.1.23 NocoBase's cache reads REDIS_URL (the worker-ID allocator's DB) before CACHE_REDIS_URL."""
    config, _ = stack_config("dev", {"app": {"image": image, "clusterPluginsInImage": True, **app}}, tmp=tmp_path)
    if key is None:
        assert load(from_settings(config)).max_instances == 2
        return
    with pytest.raises(ConfigError) as error:
        load(from_settings(config))
    message = str(error.value)
    assert message.startswith(f"appcluster:{key} — nocobase {image.rsplit(':', 1)[1]} puts its cache on REDIS_URL")
    assert message.endswith("run one instance, or 2.1.24 or later for more") and "\n" not in message


@pytest.mark.parametrize(
    "redis,warned",
    [
        (
            {"mode": "elasticache", "elasticache": {"engine": "redis", "engineVersion": "7.1"}},
            "appcluster:redis.elasticache: redis 7.1 offers no Bloom filters (BF.RESERVE), so nocobase checks every "
            "request's token against its token blacklist in the database instead",
        ),
        (
            {"mode": "in-cluster", "image": "redis:7.2.4"},
            "appcluster:redis.image: 'redis:7.2.4' offers no Bloom filters",
        ),
        ({"mode": "elasticache"}, None),
    ],
    ids=["elasticache-redis", "redis-7", "valkey-8.1"],
)
def test_redis_without_bloom_filters_is_accepted_for_nocobase_with_what_it_costs(redis, warned, run_stack, caplog):
    """NocoBase starts without BF.* (its token blacklist falls back to the database: tests/vendor), so it
    is no refusal but a warning, logged by the program before any resource."""
    run = run_stack("prod", redis=redis)
    assert run.resources
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "Bloom" in r.getMessage()]
    if warned is None:
        assert not warnings
    else:
        assert len(warnings) == 1 and warnings[0].startswith(warned), warnings


@pytest.mark.parametrize(
    "app,secrets,fragment",
    [
        # Generated on 1.9 as 32 characters: without the first version, 2.x would generate a new key.
        (
            {"image": "nocobase/nocobase:1.9.62"},
            {},
            "appcluster:app.firstVersion: null — nocobase 1.9–1.x generates APP_AES_SECRET_KEY in a form later releases "
            'read differently: set app.firstVersion: "1.9.62"',
        ),
        (
            {"image": "nocobase/nocobase:1.9.62", "firstVersion": "2.2.15"},
            {},
            "appcluster:app.firstVersion: '2.2.15' — is no nocobase version before or at 1.9.62",
        ),
        (
            {"image": "nocobase/nocobase:2.2.15", "firstVersion": "1.8.0"},
            {},
            "appcluster:app.firstVersion: '1.8.0' — is no nocobase version before or at 2.2.15",
        ),
        # Advice for a bad key never makes a new one: that would lose what the old one encrypted.
        (
            {"image": "nocobase/nocobase:2.2.15"},
            {"appAesSecretKey": "x" * 40},
            "appcluster:secrets.appAesSecretKey: [secret] — nocobase 2.1.24–2.2.x reads it as 32 bytes written as 64 hex "
            "characters, or takes the 32 characters of an earlier release's key (got 40 characters): set the key this "
            "stack's data is encrypted with",
        ),
    ],
    ids=["1.9-generated", "first-after-now", "first-unknown", "bad-2.x-key"],
)
def test_the_aes_key_form_across_releases_is_named_before_anything_runs(app, secrets, fragment, tmp_path):
    overrides = {"app": {"replicas": 1, **app}, **({"secrets": secrets} if secrets else {})}
    config, _ = stack_config("dev", overrides, tmp=tmp_path)
    with pytest.raises(ConfigError) as error:
        load(from_settings(config))
    assert str(error.value).startswith(fragment) and "openssl" not in str(error.value)


@pytest.mark.parametrize(
    "app,secrets",
    [
        ({"image": "nocobase/nocobase:1.9.62", "firstVersion": "1.9.62"}, {}),
        ({"image": "nocobase/nocobase:2.2.15", "firstVersion": "1.9.62"}, {}),
        ({"image": "nocobase/nocobase:1.9.62"}, {"appAesSecretKey": "k" * 32}),  # set in config: kept there
        ({"image": "nocobase/nocobase:2.2.15"}, {"appAesSecretKey": "k" * 32}),  # 1.9's key, taken as its hex
    ],
)
def test_the_aes_key_form_across_releases_accepted(app, secrets, tmp_path):
    overrides = {"app": {"replicas": 1, **app}, **({"secrets": secrets} if secrets else {})}
    config, _ = stack_config("dev", overrides, tmp=tmp_path)
    cfg = load(from_settings(config))
    assert cfg.generated_as == ({"APP_AES_SECRET_KEY": "chars32"} if not secrets and "2.2.15" in app["image"] else {})
