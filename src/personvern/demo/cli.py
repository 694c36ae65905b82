"""`personvern demo`: reproducible demo data, and with --serve the whole system."""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import random
import secrets
import subprocess
import sys
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# Domain apps contribute demo data through ``<app>.demo.generate(rng=, now=, progress=)``.
DEMO_MODULES = [
    "personvern.courses.demo",
    "personvern.courses.demo_followup",
    "personvern.newsletter.demo",
    "personvern.inquiries.demo",
    "personvern.recruitment.demo",
    "personvern.competitions.demo",
    "personvern.customers.demo",
    "personvern.mailbox.demo",
    "personvern.rights.demo",
    "personvern.webstats.demo",
]
OSLO = "Europe/Oslo"


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo", help="create demo data (and with --serve run the system on it)"
    )
    demo.add_argument("--persons", type=int, default=500, help="number of persons (500)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (1)")
    demo.add_argument("--as-of", help="date the data is generated around (default today)")
    demo.add_argument("--serve", action="store_true", help="then serve the system")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument(
        "--fresh", action="store_true", help="with --serve: rebuild even if data exists"
    )
    demo.set_defaults(func=_demo)


def _as_of(value: str | None) -> datetime:
    import zoneinfo

    if not value:
        return timezone.now()
    day = date.fromisoformat(value)
    return datetime.combine(day, time(12), tzinfo=zoneinfo.ZoneInfo(OSLO))


def _demo(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from personvern.core.audit import retire_anchor
    from personvern.core.models import AuditEntry, Person

    console = Console()
    _ensure_directories()
    call_command("migrate", verbosity=0, interactive=False)
    if args.serve and Person.objects.exists() and not args.fresh:
        console.print("Demo data already present (use --fresh to rebuild).")
    else:
        if args.fresh:
            call_command("flush", verbosity=0, interactive=False)
        if not AuditEntry.objects.exists():
            retire_anchor()  # a new audit chain: the old anchor belongs to the flushed one
        generate(persons=args.persons, seed=args.seed, now=_as_of(args.as_of), console=console)
    logins = ensure_demo_staff()
    if not args.serve:
        return 0
    url = f"http://127.0.0.1:{args.port}/"
    console.print(f"\n[bold]Personvern is running at {url}[/bold]")
    console.print(f"Back office: {url}admin/  (staff logins below)")
    for username, password, role in logins:
        console.print(f"  {username:<12} {password:<20} {role}")
    console.print(f"Privacy notice: {url}privacy/   Cookie policy: {url}privacy/cookies/")
    from django.conf import settings

    if getattr(settings, "EMAIL_FILE_PATH", None):
        console.print(f"Mail the system sends is written to {settings.EMAIL_FILE_PATH}/")
    console.print("A worker runs beside the web server: it sends the mail, and runs reminders, "
                  "retention and the other jobs on their schedule (`personvern jobs list`).")
    console.print()
    worker = _start_worker()
    try:
        call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False,
                     skip_checks=False)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


def _start_worker() -> subprocess.Popen[bytes]:
    """``personvern worker`` in a child process, with this process's configuration."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "personvern", "worker"], env=dict(os.environ)
    )


def _ensure_directories() -> None:
    """Create DATA_DIR and an SQLite file's directory: a fresh checkout or a
    non-default PERSONVERN_DATABASE_URL may have neither yet."""
    from pathlib import Path

    from django.db import connection

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if name and name != ":memory:" and not name.startswith("file:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)


def generate(*, persons: int, seed: int, now: datetime, console: Console | None = None) -> None:
    """Build the demo data set; the same (persons, seed, now) gives the same data."""
    from personvern.core.audit import seal_pending
    from personvern.core.models import Person
    from personvern.demo.people import generate_persons

    rng = random.Random(seed)
    console = console or Console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("persons", total=persons)
        generate_persons(
            count=persons, rng=rng, now=now, progress=lambda n: progress.advance(task, n)
        )
        for name in DEMO_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name == name:
                    continue
                raise
            step = progress.add_task(name.split(".")[1], total=None)
            kwargs: dict[str, Any] = {"rng": random.Random(f"{seed}:{name}"), "now": now}
            accepted = inspect.signature(module.generate).parameters
            if "persons" in accepted:
                kwargs["persons"] = Person.objects.order_by("pk")
            if "progress" in accepted:
                kwargs["progress"] = lambda n, step=step: progress.advance(step, n)
            module.generate(**kwargs)
            done = progress.tasks[step].completed or 1
            progress.update(step, total=done, completed=done)
    # Sealed at once (the worker would within a minute), so `audit verify` checks them now.
    seal_pending(now=now)


ROLE_USERS = [
    ("personvern", "data protection officer"),
    ("kursadmin", "course administrator"),
    ("marked", "marketing"),
    ("hr", "hr"),
]


def ensure_demo_staff() -> list[tuple[str, str, str]]:
    """One staff user per role; passwords generated once and kept in DATA_DIR."""
    from django.contrib.auth.models import Group, User

    path = settings.DATA_DIR / "demo-logins.txt"
    known: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, password = line.partition(" ")
            known[name] = password
    logins = []
    for username, role in ROLE_USERS:
        password = known.get(username) or secrets.token_urlsafe(9)
        user, _created = User.objects.get_or_create(username=username)
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name=role))
        logins.append((username, password, role))
    path.write_text("".join(f"{u} {p}\n" for u, p, _r in logins), encoding="utf-8")
    path.chmod(0o600)
    return logins
