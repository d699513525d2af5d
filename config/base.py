"""Building blocks shared by every config model: strict camelCase models and value types.

Stack YAML uses camelCase keys (as Pulumi config and Kubernetes do); Python code uses
snake_case. Unknown keys are refused so that a typo never silently falls back to a default.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
        strict=True,
        # A field's docstring is its description: the docs (tools/configdoc.py) are generated from it.
        use_attribute_docstrings=True,
    )


def matching(pattern: str, rule: str) -> AfterValidator:
    """The check of a string type that must match `pattern` whole, refused with `rule`: messages state the rule in
    words and an example, never the regex."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(rule)
        return value

    return AfterValidator(check)


AbsPath = Annotated[str, matching(r"/.*", "must be an absolute path starting with '/'")]

# A Kubernetes resource quantity as cpu/memory/storage accept it: "500m", "2", "1.5", "512Mi", "20Gi".
_QUANTITY = re.compile(r"^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_BYTES = re.compile(r"^\d+(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError("must be a Kubernetes quantity such as 500m, 2, 512Mi or 20Gi")
    return value


def _byte_quantity(value: str) -> str:
    if not _BYTES.match(value) or value.startswith("0"):
        raise ValueError("must be a positive whole size with a unit such as 512Mi, 20Gi or 1Ti")
    return value


_SUFFIX = {
    "m": 1e-3,
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def quantity_value(value: str) -> float:
    """A quantity as a number (cores or bytes), to compare two of them."""
    match = _QUANTITY.match(value)
    assert match is not None, value  # Quantity's validator has matched it
    return float(match.group(1)) * _SUFFIX[match.group(3) or ""]


Quantity = Annotated[str, AfterValidator(_quantity)]
ByteSize = Annotated[str, AfterValidator(_byte_quantity)]

# docker/distribution reference grammar, simplified: [registry[:port]/]path[:tag][@digest].
_IMAGE = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9.-]+(?::\d+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def parse_image(value: str) -> re.Match[str]:
    match = _IMAGE.match(value)
    if not match or not (match.group("tag") or match.group("digest")):
        raise ValueError(
            "must be a pinned image reference, repository:tag or repository@sha256:<digest> (e.g. redis:8.2.2)"
        )
    if match.group("tag") == "latest" and not match.group("digest"):
        raise ValueError("must not use the 'latest' tag: pin a version so every instance runs the same build")
    return match


def _image(value: str) -> str:
    parse_image(value)
    return value


Image = Annotated[str, AfterValidator(_image)]

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            "must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most 40 characters"
        )
    return value


# 40 rather than 63 characters: resource names append suffixes such as "-replicas".
DnsLabel = Annotated[str, AfterValidator(_dns_label)]


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError("must be a TCP port between 1 and 65535")
    return value


Port = Annotated[int, AfterValidator(_port)]


class Resources(Model):
    """CPU and memory for one container; requests and limits are both always set."""

    cpu_request: Quantity = "250m"
    """The CPU the container requests."""
    memory_request: Quantity = "512Mi"
    """The memory the container requests."""
    cpu_limit: Quantity = "2"
    """The CPU the container may use at most."""
    memory_limit: Quantity = "2Gi"
    """The memory the container may use at most."""

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        for kind in ("cpu", "memory"):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            if quantity_value(request) > quantity_value(limit):
                raise ValueError(
                    f"{kind}Request {request} is more than {kind}Limit {limit}: Kubernetes refuses a pod "
                    "that requests more than its limit"
                )
        return self

    def to_k8s(self) -> dict[str, Any]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }
