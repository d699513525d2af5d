"""python -m tools.offline plan|render|check --stack NAME [--config FILE] [--program DIR] [--json]

Runs a Pulumi Python program (appcluster by default) under Pulumi's mocks with a stack's config:
no cloud account, no cluster and no Pulumi CLI needed.
Exit codes: 0 clean, 1 a mandatory policy violation (check), 2 invalid config or usage, 3 the program
raised (or does not compile), 4 the program did not finish within --timeout seconds.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from pathlib import Path

import pulumi

from tools.offline import harness, policy, render, stackfile

REPO = Path(__file__).resolve().parents[2]


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.offline", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["plan", "render", "check"])
    parser.add_argument("--stack", default="local", help="stack name; reads <program>/Pulumi.<stack>.yaml")
    parser.add_argument("--config", type=Path, help="a stack settings file in Pulumi.<stack>.yaml format")
    parser.add_argument("--program", type=Path, default=REPO, help="the Pulumi program's folder (default: appcluster)")
    parser.add_argument("--policy-config", type=Path, help="policy pack config (default: policies/config/<stack>.json)")
    parser.add_argument("--out", type=Path, help="render: the folder to write to (default: rendered/<stack>-offline)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--timeout", type=float, default=30, help="seconds the program may run (default 30)")
    return parser.parse_args(argv)


class _TimedOut(Exception):
    pass


def settings_of(args: argparse.Namespace) -> tuple[dict[str, str], list[str]]:
    if not args.program.is_dir():
        raise stackfile.SettingsError(f"--program {args.program}: no such folder")
    if not (args.program / "__main__.py").is_file():
        raise stackfile.SettingsError(
            f"--program {args.program}: no __main__.py there; give the folder of a Pulumi "
            "Python program (the toolbox runs its __main__.py)"
        )
    settings = args.config or args.program / f"Pulumi.{args.stack}.yaml"
    if args.config is None and not settings.exists():
        if args.program.resolve() != REPO:
            return {}, []  # any program: no settings file means an empty config
        raise stackfile.SettingsError(f"no stack settings at {settings}: pass --config FILE or --stack NAME")
    return stackfile.read(settings)


def run(args: argparse.Namespace, config: dict[str, str], secret_keys: list[str]) -> harness.Run:
    def expire(*_):
        raise _TimedOut()

    # A program whose outputs never resolve would wait for ever: bound it.
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        return harness.run_program(args.program, args.stack, config, secret_keys)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _usage(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def _plan(result: harness.Run, as_json: bool) -> int:
    rows = [
        {"type": r.type, "name": r.name, "parent": r.parent.split("::")[-1] if r.parent else ""}
        for r in result.resources
    ]
    outputs = {k: "[secret]" if o.secret else o.value for k, o in result.outputs.items()}
    if as_json:
        print(json.dumps({"resources": rows, "outputs": outputs}, indent=2))
        return 0
    width = max(len(r["type"]) for r in rows)
    for r in rows:
        print(f"{r['type']:<{width}}  {r['name']:<32}  {r['parent']}")
    print(f"\n{len(rows)} resources. Outputs:")
    for key, value in outputs.items():
        print(f"  {key}: {value}")
    return 0


def _policy_levels(args: argparse.Namespace) -> tuple[dict, str]:
    """The levels in force and where they come from (read before the program runs: a bad file is a usage error)."""
    config_file = args.policy_config or REPO / "policies" / "config" / f"{args.stack}.json"
    if args.policy_config is None and not config_file.exists():
        # An environment nobody configured gets no relaxation: every policy mandatory, every requirement on.
        return policy.strictest(), f"the strictest (no {config_file})"
    try:
        config = json.loads(config_file.read_text())
    except OSError as error:
        raise stackfile.SettingsError(
            f"--policy-config {config_file}: cannot read it ({error.strerror or error})"
        ) from None
    except json.JSONDecodeError as error:
        raise stackfile.SettingsError(
            f"--policy-config {config_file}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    if not isinstance(config, dict):
        raise stackfile.SettingsError(f"--policy-config {config_file}: must be a JSON object of policy names")
    return config, str(config_file)


def _check(result: harness.Run, args: argparse.Namespace, levels: tuple[dict, str]) -> int:
    print(f"policy levels: {levels[1]}", file=sys.stderr)
    violations = policy.evaluate(result, levels[0])
    mandatory = [v for v in violations if v.level == "mandatory"]
    if args.json:
        print(json.dumps([v.__dict__ for v in violations], indent=2))
    else:
        for v in mandatory + [v for v in violations if v.level != "mandatory"]:
            print(v if v.level == "mandatory" else f"{v} (advisory)")
        print(f"{len(mandatory)} mandatory, {len(violations) - len(mandatory)} advisory violations")
    return 1 if mandatory else 0


def main(argv: list[str] | None = None) -> int:
    args = _args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    try:
        config, secret_keys = settings_of(args)
        levels = _policy_levels(args) if args.command == "check" else ({}, "")
    except stackfile.SettingsError as error:
        return _usage(str(error))
    try:
        result = run(args, config, secret_keys)
    except pulumi.RunError as error:  # the program refused its config
        return _usage(str(error))
    except harness.Unanswerable as error:  # a StackReference, or a manifest or chart the provider would refuse
        print(f"the program failed: {error}", file=sys.stderr)
        return 3
    except _TimedOut:
        print(
            f"the program did not finish within {args.timeout:g}s (an output that never resolves, or a "
            "StackReference or lookup the mocks cannot answer?); raise --timeout if it is just slow",
            file=sys.stderr,
        )
        return 4
    except Exception as error:  # the program itself failed: one line, where it failed
        frame = next(
            (
                f
                for f in reversed(traceback.extract_tb(error.__traceback__))
                if str(args.program.resolve()) in f.filename
            ),
            None,
        )
        where = f" at {frame.filename}:{frame.lineno}" if frame else ""
        if isinstance(error, SyntaxError):
            where = f" at {error.filename}:{error.lineno}"
        print(f"the program failed{where}: {type(error).__name__}: {error}", file=sys.stderr)
        return 3
    if args.command == "plan":
        code = _plan(result, args.json)
    elif args.command == "render":
        out = args.out or REPO / "rendered" / f"{args.stack}-offline"
        try:
            files = render.render(result, out)
        except OSError as error:
            return _usage(f"--out {out}: cannot write there ({error.strerror or error})")
        print(f"wrote {len(files)} files to {out}")
        code = 0
    else:
        code = _check(result, args, levels)
    if not args.json:
        print(f"({args.command} took {time.perf_counter() - started:.2f}s)", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
