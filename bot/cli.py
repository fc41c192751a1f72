"""The `newsbot` console script: `index`, `ask` from `index.cli`; `run`, `doctor` for the bot."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from index import cli as index_cli


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(index_cli.EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _version() -> str:
    try:
        return version("newsbot")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """Return the `newsbot` argument parser with all subcommands."""
    parser = _Parser(
        prog="newsbot",
        description="Answer questions about the news from indexed articles, in a terminal or "
        "as a Telegram bot.",
    )
    parser.add_argument("--version", action="version", version=f"newsbot {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    index_cli.add_commands(commands)
    from bot import cluster, doctor
    from bot.run import add_command

    add_command(commands)
    doctor.add_command(commands)
    cluster.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `newsbot` command line; return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except index_cli.UsageError as exc:
        print(f"newsbot: error: {exc}", file=sys.stderr)
        return index_cli.EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `newsbot ask - | head`: the reader has left; say nothing more
        quiet_stdout()
        return EXIT_BROKEN_PIPE
    return status


# What a shell reports for a command killed by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit cannot fail on the closed pipe too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
