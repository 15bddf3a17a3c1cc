"""``netfence``: a thin command line over the library.

Each subcommand is a ``Command`` (its name, how it adds its arguments, and
what it runs) in ``COMMANDS``; adding one (diff, drift, import, ...) is one
more entry. Commands that only read artifacts import nothing from cdktf, so
they start quickly. Exit codes: 0 all good, 1 findings, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from constructs_lib.errors import NetfenceError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 2 like any other bad input, but through main's return value."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


@contextmanager
def output(path: str | None) -> Iterator[TextIO]:
    """stdout, or a file written atomically (a temporary file renamed into place)."""
    if path is None:
        yield sys.stdout
        return
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            yield out
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _emit(args: argparse.Namespace, modules: dict[str, str], writer: str, value: object) -> None:
    """Write ``value`` with the report module chosen by ``--format`` (imported only then)."""
    module = importlib.import_module(f"constructs_lib.reports.{modules[args.format]}")
    with output(args.output) as out:
        getattr(module, writer)(value, out)


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write here (atomically) instead of stdout"
    )


# reach ------------------------------------------------------------------------


def _configure_reach(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies",
        nargs="+",
        required=True,
        metavar="PATH",
        help="Terraform JSON, plans, state, Kubernetes YAML/JSON, or directories of them",
    )
    parser.add_argument("--inventory", required=True, metavar="INVENTORY.yaml")
    parser.add_argument("--format", choices=("json", "table", "md"), default="table")
    _add_output(parser)


def _run_reach(args: argparse.Namespace) -> int:
    from constructs_lib.loaders import load_inventory, load_policies
    from constructs_lib.verifier.reach import Reachability

    reach = Reachability(load_policies(args.policies), load_inventory(args.inventory))
    _emit(
        args,
        {"json": "json_report", "table": "text", "md": "markdown"},
        "write_reach",
        reach.rows(),
    )
    return EXIT_OK


# verify -----------------------------------------------------------------------


def _configure_verify(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a stack dir, its cdk.tf.json, or cdktf.out")
    parser.add_argument("--format", choices=("text", "json", "md"), default="text")
    _add_output(parser)


def _run_verify(args: argparse.Namespace) -> int:
    from constructs_lib.verifier.verify import verify_stack

    result = verify_stack(args.path)
    _emit(
        args,
        {"text": "text", "json": "json_report", "md": "markdown"},
        "write_verification",
        result,
    )
    return EXIT_OK if result.ok else EXIT_FINDINGS


# map --------------------------------------------------------------------------


def _configure_map(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        metavar="PATH",
        help="a stack dir or cdk.tf.json (endpoints from its intent record), or policies "
        "of any kind with --inventory",
    )
    parser.add_argument(
        "--inventory",
        metavar="INVENTORY.yaml",
        help="endpoints to map; default: the stack's intent record",
    )
    parser.add_argument("--format", choices=("mermaid", "dot", "md"), default="mermaid")
    _add_output(parser)


def _run_map(args: argparse.Namespace) -> int:
    from constructs_lib.loaders import (
        find_stacks,
        intent_from_artifact,
        load_inventory,
        load_policies,
        read_json,
    )
    from constructs_lib.verifier.netmap import network_map
    from constructs_lib.verifier.reach import Reachability

    policies = load_policies(args.path)
    if args.inventory is not None:
        inventory = load_inventory(args.inventory)
    else:
        stacks = find_stacks(args.path)
        if len(stacks) != 1:
            raise _UsageError(
                f"netfence map: error: {args.path} holds {len(stacks)} stacks; "
                "name one stack dir, or pass --inventory"
            )
        inventory = intent_from_artifact(read_json(stacks[0]), str(stacks[0])).inventory()
    network = network_map(Reachability(policies, inventory))
    _emit(args, {"mermaid": "mermaid", "dot": "dot", "md": "markdown"}, "write_map", network)
    return EXIT_OK


COMMANDS: list[Command] = [
    Command(
        "reach",
        "which connections policies allow between inventory endpoints",
        _configure_reach,
        _run_reach,
    ),
    Command(
        "verify",
        "prove a synthesized stack allows exactly its declared flows",
        _configure_verify,
        _run_verify,
    ),
    Command(
        "map",
        "draw the allowed flows (mermaid, dot, or markdown with a matrix)",
        _configure_map,
        _run_map,
    ),
]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="netfence", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    for command in COMMANDS:
        child = sub.add_parser(command.name, help=command.help, description=command.help)
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``netfence``; returns the exit code (the console script exits with it)."""
    try:
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
        return code
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    except NetfenceError as exc:
        print(f"netfence: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # `netfence reach ... | head` closed the pipe: not an error of the input.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        print(f"netfence: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
