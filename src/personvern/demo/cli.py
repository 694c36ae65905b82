"""`personvern demo`: reproducible demo data, and with --serve the whole system."""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import random
import re
import secrets
import subprocess
import sys
import threading
from datetime import date, datetime, time
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
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
    # Last: the known participant's record uses the services of the apps above.
    "personvern.demo.participant",
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
        "--fresh", action="store_true", help="rebuild even if data exists"
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
    url = f"http://127.0.0.1:{args.port}/"
    if args.serve:
        _links_to_this_port(url)  # before the demo data: its mails carry links too
    _ensure_directories()
    call_command("migrate", verbosity=0, interactive=False)
    # Run again on a database with data, the demo adds nothing (the app modules write
    # set-based and would collide with their own rows): --fresh rebuilds instead.
    if Person.objects.exists() and not args.fresh:
        console.print("Demo data already present (use --fresh to rebuild).")
        _ensure_known_participant(_as_of(args.as_of))
    else:
        if args.fresh:
            call_command("flush", verbosity=0, interactive=False)
        if not AuditEntry.objects.exists():
            retire_anchor()  # a new audit chain: the old anchor belongs to the flushed one
        generate(persons=args.persons, seed=args.seed, now=_as_of(args.as_of), console=console)
    logins = ensure_demo_staff()
    if not args.serve:
        return 0
    console.print(f"\n[bold]Personvern is running at {url}[/bold]")
    console.print(f"Back office: {url}admin/  (staff logins below)")
    for username, password, role in logins:
        console.print(f"  {username:<12} {password:<20} {role}")
    console.print(f"Privacy notice: {url}privacy/   Cookie policy: {url}privacy/cookies/")
    mail_dir = getattr(settings, "EMAIL_FILE_PATH", None)
    if mail_dir:
        console.print(f"Mail the system sends is written to {mail_dir}/")
    _print_min_side(console, url, mail_dir)
    console.print("A worker runs beside the web server: it sends the mail, and runs reminders, "
                  "retention and the other jobs on their schedule (`personvern jobs list`).")
    console.print()
    watcher = SignInLinkWatcher(Path(mail_dir), console) if mail_dir else None
    worker = _start_worker()
    if watcher is not None:
        watcher.start()
    try:
        call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False,
                     skip_checks=False)
    finally:
        if watcher is not None:
            watcher.stop()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


def _ensure_known_participant(now: datetime) -> None:
    """Add the known participant to demo data made before she existed (idempotent)."""
    from personvern.core.audit import seal_pending
    from personvern.core.models import Person
    from personvern.demo import participant

    if participant.generate(rng=random.Random(0), now=now,
                            persons=Person.objects.order_by("pk")) is not None:
        seal_pending(now=timezone.now())


#: The address links in mail point to when nothing else is configured (config.py).
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def _links_to_this_port(url: str) -> None:
    """Links in mail (sign-in, unsubscribe) point to the port the demo serves on.

    Only when the base URL is the development default: a configured one is kept.
    The worker, a child process, inherits it through the environment.
    """
    base = url.rstrip("/")
    if settings.PERSONVERN_BASE_URL == DEFAULT_BASE_URL and base != DEFAULT_BASE_URL:
        settings.PERSONVERN_BASE_URL = base
        os.environ["PERSONVERN_BASE_URL"] = base


def _print_min_side(console: Console, url: str, mail_dir: str | None) -> None:
    """How to try Min side as the demo's known participant."""
    from personvern.demo.participant import EMAIL, FAMILY_NAME, GIVEN_NAME

    console.print(f"\n[bold]Min side (My page)[/bold]: {url}me/")
    console.print(f"  Sign in as {GIVEN_NAME} {FAMILY_NAME} with {EMAIL}: courses, CLE hours "
                  "and certificates, newsletter and consents, privacy requests (a file ready "
                  "to download).")
    if mail_dir:
        console.print("  The sign-in link is printed here when the worker sends it; it is also "
                      f"in the newest file in {mail_dir}/")
    else:
        console.print("  The sign-in link is sent by e-mail to that address.")
    console.print()


class SignInLinkWatcher(threading.Thread):
    """Prints each sign-in link to Min side as the worker writes it to the mail folder.

    Demo only (``personvern demo --serve`` with mail written to files): the
    links are in files on this machine anyway; this saves opening them. Reads
    only what is written after it starts.
    """

    def __init__(self, folder: Path, console: Console, interval: float = 1.0) -> None:
        super().__init__(name="demo-sign-in-links", daemon=True)
        self.folder, self.console, self.interval = folder, console, interval
        self._stop_event = threading.Event()
        self._read: dict[Path, int] = {f: f.stat().st_size for f in self._files()}

    def _files(self) -> list[Path]:
        try:
            return sorted(f for f in self.folder.iterdir() if f.is_file())
        except OSError:
            return []

    def new_links(self) -> list[tuple[str, str]]:
        """(recipient, link) of each sign-in mail written since the last call."""
        found: list[tuple[str, str]] = []
        for path in self._files():
            start = self._read.get(path, 0)
            try:
                with path.open("rb") as stream:
                    stream.seek(start)
                    data = stream.read()
            except OSError:
                continue
            # Only whole messages: the backend ends each with a line of 79 dashes.
            end = data.rfind(MESSAGE_END)
            if end < 0:
                continue
            self._read[path] = start + end + len(MESSAGE_END)
            found += sign_in_links(data[: end + len(MESSAGE_END)])
        return found

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            for to, link in self.new_links():
                # Not wrapped: a link broken over lines cannot be copied.
                self.console.print(f"[bold]Sign-in link for {to}[/bold]: {link}",
                                   soft_wrap=True, highlight=False)

    def stop(self) -> None:
        self._stop_event.set()


#: What Django's file mail backend writes after each message.
MESSAGE_END = b"\n" + b"-" * 79 + b"\n"


def sign_in_links(data: bytes) -> list[tuple[str, str]]:
    """(recipient, link) of each Min side sign-in mail in ``data`` (file backend output)."""
    from django.urls import reverse

    marker = "__token__"
    prefix = settings.PERSONVERN_BASE_URL + reverse("portal:sign-in-link", args=[marker])
    pattern = re.compile(re.escape(prefix.split(marker)[0]) + r"\S+")
    links = []
    for raw in data.split(MESSAGE_END):
        if not raw.strip():
            continue
        message = message_from_bytes(raw.lstrip(b"\n"), policy=email_policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        links += [(str(message["To"]), match) for match in pattern.findall(text)]
    return links


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
            step = progress.add_task(name.removeprefix("personvern.").removesuffix(".demo"),
                                     total=None)
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
    # A bulk load leaves PostgreSQL without statistics until autovacuum gets to it (or never,
    # where it is off): plans made blind can scan whole tables per row (issue 10).
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")


ROLE_USERS = [
    ("personvern", "data protection officer"),
    ("kursadmin", "course administrator"),
    ("marked", "marketing"),
    ("hr", "hr"),
    ("kundeansvarlig", "account manager"),
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
