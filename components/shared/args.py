"""The checks a component's Args make of themselves in `__post_init__`: a value the component cannot
build from is refused where the component is declared, naming the Args, the field and the value,
whoever builds the Args (a platform, a test, another program)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, get_args


class ArgsError(ValueError):
    pass


def require(args: Any, condition: bool, field: str, message: str) -> None:
    if not condition:
        value = getattr(args, field, None)
        raise ArgsError(f"{type(args).__name__}.{field}: {value!r} — {message}")


def one_of(args: Any, field: str, allowed: Any) -> None:
    """`allowed` is a Literal type (its values) or any iterable of values."""
    values = get_args(allowed) or tuple(allowed)
    require(args, getattr(args, field) in values, field, f"must be one of {', '.join(map(repr, values))}")


def port(args: Any, *fields: str) -> None:
    for field in fields:
        value = getattr(args, field)
        require(args, isinstance(value, int) and 1 <= value <= 65535, field, "must be a TCP port, 1 to 65535")


def absolute(args: Any, *fields: str) -> None:
    for field in fields:
        value = getattr(args, field)
        require(args, isinstance(value, str) and value.startswith("/"), field, "must be an absolute path")


def needs(args: Any, when: str, *fields: str) -> None:
    """Fields a mode cannot do without."""
    for field in fields:
        require(args, getattr(args, field) is not None, field, f"is required {when}")


def mode(args: Any, allowed: Any, required: Mapping[str, tuple[str, ...]]) -> None:
    """`args.mode` is one of `allowed` (a Literal), and the fields that mode cannot do without are set."""
    one_of(args, "mode", allowed)
    require(
        args, set(required) == set(get_args(allowed)), "mode", "has a mode with no stated needs (a bug in the Args)"
    )
    needs(args, f"by mode {args.mode}", *required[args.mode])


def subset(args: Any, field: str, keys: Iterable[str], of: str) -> None:
    extra = sorted(set(getattr(args, field)) - set(keys))
    require(args, not extra, field, f"names {extra}, which are not in {of}")
