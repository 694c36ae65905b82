"""The ``personvern`` command line.

Each area contributes its subcommands through a ``cli`` module with a
``register(subparsers)`` function; ``personvern manage …`` reaches Django's own
management commands.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

CLI_MODULES = [
    "personvern.policy.cli",
    "personvern.core.cli",
    "personvern.courses.cli",
    "personvern.newsletter.cli",
    "personvern.recruitment.cli",
    "personvern.retention.cli",
    "personvern.rights.cli",
    "personvern.api.cli",
    "personvern.webstats.cli",
    "personvern.worker.cli",
    "personvern.demo.cli",
]


@contextmanager
def counting_progress(label: str, console: Any) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar for one long job; yields ``progress(done, total)`` for the engine."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personvern.settings")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personvern",
        description="Course administration in which the privacy statement is executable.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("args", nargs=argparse.REMAINDER)
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # area not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (``python -m`` exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _setup_django()
    if argv and argv[0] == "manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["personvern manage", *argv[1:]])
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    from personvern.policy import PolicyError

    try:
        code: int = args.func(args)
    except PolicyError as exc:  # the policy in force is broken: say where, not a traceback
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("The policy is not valid; `personvern policy check` lists the errors.",
              file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
