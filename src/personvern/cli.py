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
    "personvern.members.cli",
    "personvern.recruitment.cli",
    "personvern.retention.cli",
    "personvern.rights.cli",
    "personvern.api.cli",
    "personvern.webstats.cli",
    "personvern.worker.cli",
    "personvern.mailbox.cli",
    "personvern.demo.cli",
    "personvern.serve",
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
    from django.db import DatabaseError

    if argv and argv[0] == "manage":
        from django.core.management import execute_from_command_line

        try:
            execute_from_command_line(["personvern manage", *argv[1:]])
        except DatabaseError:
            if argv[1:2] == ["migrate"] or not _report_unmigrated():
                raise
            return 2
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
    except DatabaseError:
        # "no such table" / "relation does not exist": say what to do, not a traceback.
        if not _report_unmigrated():
            raise
        return 2
    return code


def _report_unmigrated() -> bool:
    """After a database error: if migrations are missing, say so and return True.

    Any other database error (or one while checking) is not ours to explain:
    returns False, and the caller re-raises the original error.
    """
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.close()  # a failed transaction must not hide the answer
        executor = MigrationExecutor(connection)
        applied = executor.recorder.applied_migrations()
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # noqa: BLE001 - the original error is the one to show
        return False
    if not unapplied:
        return False
    settings = connection.settings_dict
    where = settings["NAME"]
    if connection.vendor != "sqlite":
        host = settings.get("HOST") or "localhost"
        port = f":{settings['PORT']}" if settings.get("PORT") else ""
        where = f"{host}{port}/{settings['NAME']}"  # never the user or password
    if applied:
        print(
            f"The database at {where} lacks {len(unapplied)} migration(s): "
            "run `personvern manage migrate`.",
            file=sys.stderr,
        )
    else:
        print(
            f"The database at {where} has not been migrated: run `personvern manage migrate`.",
            file=sys.stderr,
        )
    return True


if __name__ == "__main__":
    sys.exit(main())
