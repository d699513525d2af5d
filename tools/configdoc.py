"""The config's documentation, generated from the pydantic models so that it cannot drift from them.

Writes (or with --check, compares) three things: the README's configuration table (between the
configdoc marker comments), the `config:` block of Pulumi.yaml (one entry per top-level key, with
Pulumi's project-config type, default and description) and schemas/stack-config.json, the JSON
Schema of a Pulumi.<stack>.yaml file that editors use for completion. The walk follows the model
tree under StackConfig, so a settings model hung under it later is documented with no change here.

    python -m tools.configdoc           # regenerate
    python -m tools.configdoc --check   # exit 1 naming every file that drifted
"""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, HttpUrl, SecretStr
from pydantic.fields import FieldInfo

from config.stack import NAMESPACE, PLATFORM_UNSUPPORTED, StackConfig

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PULUMI_YAML = ROOT / "Pulumi.yaml"
SCHEMA = ROOT / "schemas" / "stack-config.json"
BEGIN, END = "<!-- configdoc:begin (python -m tools.configdoc) -->", "<!-- configdoc:end -->"


class Row(NamedTuple):
    key: str
    type: str
    default: str
    description: str


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The config models an annotation holds: itself, or inside Optional, list or dict."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models(arg)
    return found


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        return f"map of {_type_name(typing.get_args(annotation)[1])}"
    if annotation is SecretStr:
        return "secret"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    if annotation is HttpUrl:
        return "URL"
    names = {str: "string", int: "integer", bool: "boolean", float: "number"}
    if annotation not in names:
        # A type the docs cannot name would print as Python's repr: name it here instead.
        raise TypeError(f"tools/configdoc.py cannot name the config type {annotation!r}")
    return names[annotation]


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None or isinstance(value, BaseModel) or (value in ({}, []) and not isinstance(value, bool)):
        return ""
    return f"`{json.dumps(value)}`"


def rows(model: type[BaseModel] = StackConfig, prefix: str = "") -> Iterator[Row]:
    """Every key under `model`, depth first, in the order the models declare them."""
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        yield Row(key, _type_name(field.annotation), _default(field), field.description or "")
        for inner in _models(field.annotation):
            yield from rows(inner, key + ".")


def _platforms(key: str) -> str:
    refused = [
        platform
        for platform, keys in PLATFORM_UNSUPPORTED.items()
        if any(key == k or key.startswith(k + ".") for k in keys)
    ]
    return ", ".join(p for p in PLATFORM_UNSUPPORTED if p not in refused)


def readme_table() -> str:
    lines = ["| key | type | default | platforms | description |", "|---|---|---|---|---|"]
    for row in rows():
        cells = (f"`{row.key}`", row.type, row.default, _platforms(row.key), row.description.replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readme(text: str) -> str:
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"{README.name}: the markers {BEGIN!r} and {END!r} are missing")
    return f"{head}{BEGIN}\n{readme_table()}\n{END}{tail}"


_PULUMI_TYPES = {
    "string": "string",
    "integer": "integer",
    "boolean": "boolean",
    "number": "integer",
    "array": "array",
    "object": "object",
}


def _json_type(model: type[BaseModel], name: str) -> str:
    prop = model.model_json_schema(by_alias=True)["properties"][name]
    kinds = [p.get("type", "object") for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    return _PULUMI_TYPES[kinds[0]]


def pulumi_config_block() -> str:
    """Pulumi.yaml's `config:` block: per key its type, default (where one is safe) and description."""
    out = ["config:"]
    for name, field in StackConfig.model_fields.items():
        key = field.alias or name
        kind = _json_type(StackConfig, key)
        out += [f"  {key}:", f"    type: {kind}"]
        if not field.is_required():
            value = field.get_default(call_default_factory=True)
            # A model's own defaults apply when the key is absent: `{}` says so without repeating them.
            # An unset-by-default object too: the engine requires a key declared without a default,
            # and config/__init__.py reads `{}` there as unset.
            if isinstance(value, BaseModel) or value is None:
                out.append("    default: {}")
            elif value is not None:
                out.append(f"    default: {json.dumps(value)}")
        out.append(f"    description: {json.dumps(field.description or '')}")
    return "\n".join(out) + "\n"


def pulumi_yaml(text: str) -> str:
    head, sep, _ = text.partition("\nconfig:\n")
    if not sep:
        raise SystemExit(f"{PULUMI_YAML.name}: no top-level `config:` block")
    # The block is the file's last: everything after it is generated.
    return head + "\n" + pulumi_config_block()


def _secure(schema: Any) -> Any:
    """A secret is written `{secure: v1:…}` in a stack file: accept that wherever a secret string goes."""
    if isinstance(schema, dict):
        if schema.get("format") == "password":
            return {
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {"secure": {"type": "string"}},
                        "required": ["secure"],
                        "additionalProperties": False,
                    },
                ],
                **{k: v for k, v in schema.items() if k in ("title", "description")},
            }
        return {k: _secure(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_secure(v) for v in schema]
    return schema


def json_schema() -> dict[str, Any]:
    """The schema of a whole Pulumi.<stack>.yaml: its `config:` map holds `appcluster:<key>` keys, and
    any other namespace's (a provider's) unchecked."""
    model = _secure(StackConfig.model_json_schema(by_alias=True, mode="validation"))
    props = {f"{NAMESPACE}:{key}": value for key, value in model["properties"].items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://appcluster.invalid/schemas/stack-config.json",
        "title": "appcluster stack file (Pulumi.<stack>.yaml)",
        "description": "Generated from config/ by `python -m tools.configdoc`; do not edit.",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": props,
                "required": [f"{NAMESPACE}:{key}" for key in model.get("required", [])],
                # Unknown appcluster keys are typos (config refuses them); other namespaces are not ours.
                "propertyNames": {"anyOf": [{"enum": sorted(props)}, {"not": {"pattern": f"^{NAMESPACE}:"}}]},
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
        },
        "$defs": model.get("$defs", {}),
    }


def generated() -> dict[Path, str]:
    """Each generated file's full text, from the models and the files' hand-written parts."""
    return {
        README: readme(README.read_text()),
        PULUMI_YAML: pulumi_yaml(PULUMI_YAML.read_text()),
        SCHEMA: json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n",
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    drifted = []
    for path, text in generated().items():
        if path.exists() and path.read_text() == text:
            continue
        drifted.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in drifted:
        print(f"{path.relative_to(ROOT)}: {'drifted from config/: run `make docs`' if check else 'regenerated'}")
    return 1 if check and drifted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
