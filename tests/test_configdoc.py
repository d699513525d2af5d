"""The config's documentation is generated from the models (tools/configdoc.py): these tests fail when
the README table, Pulumi.yaml's `config:` block or the stack-file JSON Schema drift from them."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

import config
from config.stack import PLATFORM_UNSUPPORTED
from tools import configdoc

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(REPO.glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("path", [configdoc.README, configdoc.PULUMI_YAML, configdoc.SCHEMA], ids=lambda p: p.name)
def test_generated_file_matches_the_models(path):
    assert path.read_text() == configdoc.generated()[path], f"{path.name} drifted from config/: run `make docs`"


def test_every_config_field_is_described():
    assert [row.key for row in configdoc.rows() if not row.description] == []


def test_a_type_the_docs_cannot_name_is_refused_not_printed_as_python():
    with pytest.raises(TypeError, match="cannot name the config type"):
        configdoc._type_name(complex)


def test_a_new_key_joins_the_docs_through_the_model_tree():
    keys = [row.key for row in configdoc.rows()]
    assert {
        "aws.privateSubnetIds",
        "redis.elasticache.engineVersion",
        "app.build.registry.mode",
        "storage.efs.throughputMode",
    } <= set(keys)
    assert "  aws:\n    type: object\n" in configdoc.pulumi_config_block()


def test_the_table_shows_where_a_key_is_implemented():
    table = configdoc.readme_table()
    assert "| `app.build` | object |  | kubernetes |" in table
    assert "| `redis.mode` |" in table and "| kubernetes, docker |" in table.split("| `redis.mode` |")[1].split("\n")[0]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_stack_file_validates_against_the_schema(path):
    assert path.read_text().startswith("# yaml-language-server: $schema=./schemas/stack-config.json\n")
    jsonschema.Draft202012Validator(configdoc.json_schema()).validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize(
    "config_map,where",
    [
        ({"appcluster:app": {"profile": "nocobase", "replicass": 2}}, "replicass"),
        ({"appcluster:app": {"profile": "nocobase"}, "appcluster:redis": {"mode": "memorydb"}}, "memorydb"),
        ({"appcluster:app": {"profile": "nocobase"}, "appcluster:loadbalancer": {}}, "appcluster:loadbalancer"),
        ({"appcluster:app": {"profile": "nocobase"}, "appcluster:protect": "false"}, "false"),
    ],
    ids=["unknown-field", "unknown-mode", "unknown-key", "quoted-bool"],
)
def test_the_schema_flags_what_config_refuses(config_map, where):
    errors = list(jsonschema.Draft202012Validator(configdoc.json_schema()).iter_errors({"config": config_map}))
    assert errors and any(where in str(e.message) for e in errors)


def test_the_schema_accepts_a_secure_secret_and_other_namespaces():
    jsonschema.Draft202012Validator(configdoc.json_schema()).validate(
        {
            "config": {
                "appcluster:app": {"profile": "nocobase"},
                "aws:region": "eu-west-1",
                "appcluster:secrets": {"appKey": {"secure": "v1:abc"}},
            }
        }
    )


def test_check_exits_1_naming_a_drifted_file(tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"x\n{configdoc.BEGIN}\n| stale |\n{configdoc.END}\n")
    monkeypatch.setattr(configdoc, "README", readme)
    monkeypatch.setattr(configdoc, "ROOT", tmp_path)
    monkeypatch.setattr(configdoc, "PULUMI_YAML", tmp_path / "Pulumi.yaml")
    monkeypatch.setattr(configdoc, "SCHEMA", tmp_path / "schema.json")
    configdoc.PULUMI_YAML.write_text(configdoc.pulumi_yaml((REPO / "Pulumi.yaml").read_text()))
    configdoc.SCHEMA.write_text(configdoc.generated()[configdoc.SCHEMA])
    assert configdoc.main(["--check"]) == 1
    assert capsys.readouterr().out == "README.md: drifted from config/: run `make docs`\n"
    assert configdoc.main([]) == 0 and configdoc.main(["--check"]) == 0


# A config that sets each declared key, on top of a stack that is otherwise valid on the platform.
_SETS = {
    "app.build": {"app": {"profile": "new-api", "build": {"context": "images/nocobase", "tag": "v0.9.0-p1"}}},
    "app.autoscaling.enabled": {"app": {"profile": "new-api", "autoscaling": {"enabled": True}}},
    "database.logDatabase": {"database": {"logDatabase": True}},
    "loadBalancer.ingress.enabled": {"loadBalancer": {"ingress": {"enabled": True, "host": "a.example.com"}}},
    "backup.s3": {"backup": {"s3": {"bucket": "shop", "roleArn": "arn:aws:iam::123456789012:role/b"}}},
}


@pytest.mark.parametrize("platform,key", [(p, k) for p, keys in PLATFORM_UNSUPPORTED.items() for k in keys])
def test_each_key_a_platform_declares_unsupported_is_refused_in_one_line(platform, key):
    raw = {
        "platform": platform,
        "app": {"profile": "new-api", "replicas": 1},
        "storage": {"storageClass": "nfs-client"},
        **_SETS[key],
    }
    raw["app"] = {"replicas": 1, **raw["app"]}
    with pytest.raises(config.ConfigError) as refused:
        config.load(raw)
    assert str(refused.value).startswith(f"appcluster:{key}: ") and "\n" not in str(refused.value)
    assert PLATFORM_UNSUPPORTED[platform][key] in str(refused.value)


def test_pulumi_yaml_s_empty_default_of_an_unset_by_default_key_means_unset():
    # The engine requires a declared key without a default, so Pulumi.yaml gives aws and storage `{}`.
    assert config.from_settings({"appcluster:aws": "{}", "appcluster:storage": "{}", "appcluster:docker": "{}"}) == {
        "docker": {}
    }
