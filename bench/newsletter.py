"""Newsletter send benchmark: the worker's send task against a bare sender, to a local sink.

    python bench/newsletter.py --recipients 20000 --recipients 100000 --repeat 3
    python bench/newsletter.py --smoke        # CI: 500 recipients, SQLite, writes nothing

For each size it builds (once per ``--db-prefix``) a migrated database with N
subscribers loaded in bulk (raw ``COPY``/``executemany``, like
``bench/generate.py``), then ANALYZEs it. Each round starts a local SMTP sink
(aiosmtpd, in processes of its own, which counts and discards what it receives)
and sends, each side in a fresh process:

- **personvern**: a new mailing (subject and names with letters outside ASCII,
  two links in the text), sent by the worker's task ``send_newsletter`` (what
  the back office's "send" runs; ``personvern newsletter send`` calls the same
  service) with its defaults: batches of ``PERSONVERN_BATCH_SIZE``, 4 SMTP
  connections;
- **bare**: a minimal script without Django: one SQL query for the recipients,
  then per copy Python's ``email`` package (``EmailMessage``, policy ``SMTP``)
  builds the same kind of message (text and HTML, the recipient's name in To,
  an unsubscribe link of its own signed with HMAC, List-Unsubscribe and
  List-Unsubscribe-Post per RFC 8058, tracked links, an open image) and
  ``smtplib`` sends it, over the same number of connections.

The sink checks every message: the List-Unsubscribe address must be in the
text and the HTML; at the end it must have received exactly N messages, to N
different recipients, with N different unsubscribe links, or the run fails.
It reports msg/s (median of the rounds), each sender process's peak resident
memory (``ru_maxrss``, and the same before the send started) and the ratio to
the bare sender in the same round. On PostgreSQL one more round sends from a
copy of the 20,000 database whose statistics were never gathered (autovacuum
off for its tables, no ANALYZE): query shapes must not depend on them.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pg import POSTGRES_URL, pg_admin, pg_exists

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
MARK_BEGIN = "<!-- bench:newsletter:begin -->"
MARK_END = "<!-- bench:newsletter:end -->"
BASE_URL = "https://www.jus.no"
FROM = "juspost@jus.no"
SUBJECT = "Nytt fra JUS: vårens kurs i arbeidsrett – påmeldingen er åpen"
BODY = (
    "Kjære abonnent,\n\n"
    "Vårens kurs i arbeidsrett er klare. Se hele programmet på "
    "https://www.jus.no/kurs?tema=arbeidsrett og meld deg på før 1. mars.\n\n"
    "Nytt i år: et heldagskurs om personvern på arbeidsplassen, med praktiske "
    "oppgaver og god tid til spørsmål. Les mer: https://www.jus.no/kurs/personvern-2027.\n\n"
    "Vennlig hilsen\nJuristenes Utdanningssenter"
)
GIVEN = ["Åse", "Kari", "Ola", "Øystein", "Jørgen", "Siri", "Bjørn", "Ingrid", "Håkon", "Liv"]
FAMILY = ["Ødegård", "Hansen", "Bjørnstad", "Sæther", "Berg", "Løvås", "Nilsen", "Aasen"]
CONNECTIONS = 4
SINK_PROCESSES = 2
#: An earlier checkout whose send is timed in the same rounds (``--baseline-src``).
BASELINE_SRC = ""
FOOTER = (
    "Du får nyhetsbrevet fra Juristenes Utdanningssenter. For å slutte å få det, åpne "
    "denne lenken:\nYou receive the newsletter from Juristenes Utdanningssenter. To stop "
    "receiving it, open this link:"
)


# ------------------------------------------------------------------ databases


def _env(database_url: str, port: int = 25) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PERSONVERN_DATABASE_URL=database_url,
        PERSONVERN_ENV="test",  # DEBUG off: Django would otherwise keep every query
        PERSONVERN_DEBUG="false",
        PERSONVERN_DATA_DIR=str(DATA / "var"),
        PERSONVERN_EMAIL_URL=f"smtp://127.0.0.1:{port}",
        PERSONVERN_BASE_URL=BASE_URL,
        PERSONVERN_DEFAULT_FROM_EMAIL=FROM,
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 - our interpreter, our scripts
        [sys.executable, *args], env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _setup_django(database_url: str) -> None:
    os.environ.update(_env(database_url, int(os.environ.get("BENCH_SMTP_PORT", "25"))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personvern.settings")
    sys.path.insert(0, os.environ.get("BENCH_SRC") or str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()


def load(recipients: int, analyze: bool) -> dict[str, int]:
    """Fill the (empty, migrated) database with ``recipients`` subscribers who may
    receive a mailing (70 % by consent, 30 % as members of Advokatforeningen) and
    5 % more who unsubscribed; set-based, no audit (synthetic load)."""
    import uuid

    from django.db import connection, transaction

    from generate import Writer

    writer = Writer()
    people = recipients + recipients // 20
    at = datetime(2025, 1, 1, 12, tzinfo=UTC)
    counts: dict[str, int] = {}
    member = [pid % 10 < 3 for pid in range(people + 1)]
    with transaction.atomic():
        counts["core_person"] = writer.insert(
            "core_person", ["id", "public_id", "given_name", "family_name", "phone", "created_at"],
            ((pid, uuid.UUID(int=pid, version=4), GIVEN[pid % len(GIVEN)],
              f"{FAMILY[pid % len(FAMILY)]}", "", at) for pid in range(1, people + 1)),
        )
        counts["core_emailidentity"] = writer.insert(
            "core_emailidentity", ["id", "person_id", "address", "verified_at", "created_at"],
            ((pid, pid, f"p{pid}@bench.example", at, at) for pid in range(1, people + 1)),
        )
        counts["core_membership"] = writer.insert(
            "core_membership",
            ["id", "person_id", "organisation", "member_id", "valid_from", "valid_to"],
            ((pid, pid, "advokatforeningen", f"A{pid}", datetime(2000, 1, 1).date(), None)
             for pid in range(1, people + 1) if member[pid]),
        )
        counts["core_consentevent"] = writer.insert(
            "core_consentevent",
            ["id", "person_id", "scope", "action", "text_version", "channel", "at"],
            ((pid, pid, "newsletter", "given", "newsletter-signup-1", "form", at)
             for pid in range(1, people + 1) if not member[pid]),
        )
        counts["newsletter_subscription"] = writer.insert(
            "newsletter_subscription",
            ["id", "person_id", "status", "source", "basis", "organisation", "basis_note",
             "consent_id", "subscribed_at", "unsubscribed_at", "unsubscribe_channel"],
            ((pid, pid, "active" if pid <= recipients else "unsubscribed",
              "member-organisation" if member[pid] else "form",
              "membership" if member[pid] else "consent",
              "advokatforeningen" if member[pid] else "", "", None if member[pid] else pid, at,
              None if pid <= recipients else at, "" if pid <= recipients else "link")
             for pid in range(1, people + 1)),
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in counts:
                cursor.execute(  # identity columns must continue after the bulk ids
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table}))"
                )
                if not analyze:  # keep the server from gathering statistics behind our back
                    cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        if analyze:
            cursor.execute("ANALYZE")
    return counts


class Database:
    """The bench's databases: PostgreSQL (default) or SQLite files under bench/data."""

    def __init__(self, url: str | None, prefix: str, sqlite: bool) -> None:
        self.prefix = prefix
        self.sqlite = sqlite or bool(url and url.startswith("sqlite"))
        self.url = url
        self.name = "sqlite" if self.sqlite else "postgresql"

    def _target(self, recipients: int, analyze: bool) -> str:
        label = f"{recipients}" + ("" if analyze else "_stale")
        if self.sqlite:
            if self.url:
                return self.url.replace(".sqlite3", f"-{label}.sqlite3")
            return f"sqlite:///{DATA / f'{self.prefix}-newsletter-{label}.sqlite3'}"
        base = self.url or POSTGRES_URL
        return base.rsplit("/", 1)[0] + f"/{self.prefix}_newsletter_{label}"

    def build(self, recipients: int, analyze: bool = True) -> str:
        """The database with ``recipients`` subscribers, built if it is not there yet."""
        url = self._target(recipients, analyze)
        if self.sqlite:
            path = Path(url.removeprefix("sqlite:///"))
            if path.exists():
                return url
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            self._fill(f"sqlite:///{partial}", recipients, analyze)
            partial.rename(path)
            return url
        name = url.rsplit("/", 1)[1]
        if pg_exists(name):
            return url
        partial = f"{name}_partial"
        pg_admin(f"DROP DATABASE IF EXISTS {partial}")
        pg_admin(f"CREATE DATABASE {partial}")
        self._fill(url.rsplit("/", 1)[0] + f"/{partial}", recipients, analyze)
        pg_admin(f"ALTER DATABASE {partial} RENAME TO {name}")
        return url

    @staticmethod
    def _fill(url: str, recipients: int, analyze: bool) -> None:
        env = _env(url)
        _run(["-m", "personvern", "manage", "migrate", "--noinput", "-v", "0"], env)
        args = [str(Path(__file__).resolve()), "--worker", "load", "--database-url", url,
                "--recipients", str(recipients)]
        _run([*args, *([] if analyze else ["--no-analyze"])], env)

    def drop_all(self, sizes: Sequence[int]) -> None:
        for recipients in sizes:
            for analyze in (True, False):
                url = self._target(recipients, analyze)
                if self.sqlite:
                    path = url.removeprefix("sqlite:///")
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
                else:
                    pg_admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]}")


# ----------------------------------------------------------------------- sink

_UNSUBSCRIBE = re.compile(rb"\r?\nList-Unsubscribe:[ \t]*(?:\r?\n[ \t]+)?<([^>]+)>", re.I)


class _Counter:
    """The aiosmtpd handler: counts, checks each message's links, keeps nothing else."""

    def __init__(self) -> None:
        self.count = 0
        self.bad = 0
        self.links: set[bytes] = set()
        self.recipients: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        data = envelope.original_content or envelope.content
        found = _UNSUBSCRIBE.search(data)
        # The header's address again in the text and in the HTML (href and text).
        if found is None or data.count(found.group(1)) < 3:
            self.bad += 1
        else:
            self.links.add(hashlib.blake2b(found.group(1), digest_size=8).digest())
        self.recipients.update(envelope.rcpt_tos)
        self.count += 1
        return "250 OK"


def _sink_child(sock: Any, report: str) -> None:
    import asyncio

    from aiosmtpd.smtp import SMTP

    handler = _Counter()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="sink", ident="bench sink"), sock=sock))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    server.close()
    Path(report).write_text(json.dumps({
        "count": handler.count, "bad": handler.bad,
        "links": [link.hex() for link in handler.links],
        "recipients": sorted(handler.recipients),
    }))


def sink(processes: int) -> int:
    """Listen on a free port (printed), in ``processes`` processes; on SIGTERM print the totals."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    reports = tempfile.mkdtemp(prefix="nl-sink-")
    children = []
    for index in range(processes):
        pid = os.fork()
        if pid == 0:
            try:
                _sink_child(sock, f"{reports}/{index}.json")
            finally:
                os._exit(0)
        children.append(pid)
    print(sock.getsockname()[1], flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for pid in children:
        os.kill(pid, signal.SIGTERM)
    for pid in children:
        os.waitpid(pid, 0)
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    count = bad = 0
    links: set[str] = set()
    recipients: set[str] = set()
    for index in range(processes):
        part = json.loads(Path(f"{reports}/{index}.json").read_text())
        count += part["count"]
        bad += part["bad"]
        links.update(part["links"])
        recipients.update(part["recipients"])
    shutil.rmtree(reports, ignore_errors=True)
    print(json.dumps({"count": count, "bad": bad, "links": len(links),
                      "recipients": len(recipients),
                      "cpu_s": cpu.ru_utime + cpu.ru_stime}), flush=True)
    return 0


class Sink:
    def __enter__(self) -> Sink:
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, our script
            [sys.executable, str(Path(__file__).resolve()), "--worker", "sink"],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        return self

    def totals(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=120)
        return json.loads(out.strip().splitlines()[-1])

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# -------------------------------------------------------------------- senders


def send_personvern(database_url: str) -> dict[str, Any]:
    """In this (fresh) process: a new mailing, sent by the worker's task; time and memory."""
    _setup_django(database_url)
    from django.db import connection

    from personvern.newsletter.services import newsletter_create
    from personvern.newsletter.tasks import send_newsletter

    connection.ensure_connection()
    newsletter = newsletter_create(subject=SUBJECT, body=BODY, actor="bench")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    outcome = send_newsletter.call(newsletter.pk, "bench")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_s": time.process_time() - cpu, "outcome": outcome,
            "sent": outcome.get("recipients"),
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "maxrss_before_kb": rss_before}


_RECIPIENTS_SQL = (
    "SELECT s.id, p.given_name, p.family_name, e.address FROM newsletter_subscription s "
    "JOIN core_person p ON p.id = s.person_id JOIN core_emailidentity e ON e.person_id = p.id "
    "WHERE s.status = 'active' ORDER BY s.id"
)


def _bare_rows(database_url: str) -> list[tuple[Any, ...]]:
    if database_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(_RECIPIENTS_SQL))
    import psycopg

    with psycopg.connect(database_url) as conn:
        return list(conn.execute(_RECIPIENTS_SQL))  # type: ignore[arg-type]


def _bare_copies(rows: Sequence[tuple[Any, ...]], port: int, raw: bool) -> int:
    import html
    import smtplib
    from email.charset import Charset
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import formatdate, make_msgid

    key = hashlib.sha256(b"bench-key").digest()
    links = re.compile(r"https?://[^\s<>\"]+?(?=[.,;:!?)\]]*(?:\s|$|<))")

    def token(*fields: object) -> str:
        text = ":".join(str(f) for f in fields)
        return text + ":" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:22]

    utf8 = Charset("utf-8")
    subject = utf8.header_encode(SUBJECT)
    smtp = smtplib.SMTP("127.0.0.1", port)
    for sid, given, family, address in rows:
        unsubscribe = f"{BASE_URL}/newsletter/unsubscribe/u1:{token(sid)}/"
        text = links.sub(lambda m, s=sid: f"{BASE_URL}/newsletter/c/{token(s, 1, m.group(0))}/",
                         BODY)
        paragraphs = "\n".join(
            "<p>" + links.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>',
                              html.escape(block)).replace("\n", "<br>\n") + "</p>"
            for block in text.split("\n\n"))
        page = (
            f'<!DOCTYPE html>\n<html lang="nb">\n<head><meta charset="utf-8"><title>'
            f"{html.escape(SUBJECT)}</title></head>\n<body>\n{paragraphs}\n<hr>\n<p>"
            f'{html.escape(FOOTER).replace(chr(10), "<br>")}<br>\n<a href="{unsubscribe}">'
            f'{unsubscribe}</a></p>\n<img src="{BASE_URL}/newsletter/o/o1:{token(sid, 1)}/" '
            'width="1" height="1" alt="">\n</body>\n</html>\n')
        plain = f"{text}\n\n--\n{FOOTER}\n{unsubscribe}\n"
        if raw:
            # The floor: the message written as bytes in one go, nothing checked or folded
            # but what this data needs (an encoded word for the name, the link on a line).
            name = f"{given} {family}"
            to = f"{utf8.header_encode(name) if not name.isascii() else name} <{address}>"
            boundary = "==bench-" + token(sid)[-12:]
            part = ('--{b}\r\nContent-Type: text/{t}; charset="utf-8"\r\n'
                    "Content-Transfer-Encoding: 8bit\r\n\r\n{c}\r\n")
            data = (
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
                f"MIME-Version: 1.0\r\nSubject: {subject}\r\nFrom: {FROM}\r\nTo: {to}\r\n"
                f"Date: {formatdate()}\r\nMessage-ID: {make_msgid(domain='bench.example')}\r\n"
                f"List-Unsubscribe:\r\n <{unsubscribe}>\r\n"
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n"
                + part.format(b=boundary, t="plain", c=plain.replace("\n", "\r\n"))
                + part.format(b=boundary, t="html", c=page.replace("\n", "\r\n"))
                + f"--{boundary}--\r\n"
            ).encode()
            smtp.sendmail(FROM, [address], data)
            continue
        message = EmailMessage(policy=SMTP)
        message["Subject"] = SUBJECT
        message["From"] = FROM
        message["To"] = Address(display_name=f"{given} {family}", addr_spec=address)
        message["Date"] = formatdate()
        message["Message-ID"] = make_msgid(domain="bench.example")
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(plain, cte="8bit")
        message.add_alternative(page, subtype="html", cte="8bit")
        smtp.sendmail(FROM, [address], message.as_bytes())
    smtp.quit()
    return len(rows)


def send_bare(database_url: str, port: int, connections: int, raw: bool) -> dict[str, Any]:
    """In this (fresh) process, without Django: the bare sender, or with ``raw`` the
    floor (see the module's docstring)."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    rows = _bare_rows(database_url)
    shares = [rows[i::connections] for i in range(connections)]
    threads = [threading.Thread(target=_bare_copies, args=(share, port, raw)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_s": time.process_time() - cpu, "sent": len(rows),
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "maxrss_before_kb": rss_before}


def _side(side: str, url: str, sink_port: int) -> dict[str, Any]:
    env = _env(url, sink_port)
    env["BENCH_SMTP_PORT"] = str(sink_port)
    if side == "baseline":
        env["BENCH_SRC"] = str(Path(BASELINE_SRC) / "src")
    args = [str(Path(__file__).resolve()), "--worker",
            "personvern" if side == "baseline" else side, "--database-url", url,
            "--port", str(sink_port)]
    return json.loads(_run(args, env).strip().splitlines()[-1])


def _measured(side: str, url: str, recipients: int) -> dict[str, Any]:
    with Sink() as sink_process:
        result = _side(side, url, sink_process.port)
        totals = sink_process.totals()
    expected = {"count": recipients, "bad": 0, "links": recipients, "recipients": recipients}
    sink_cpu = totals.pop("cpu_s")
    if totals != expected or result["sent"] != recipients:
        raise SystemExit(f"{side}, {recipients}: the sink received {totals}, the sender says "
                         f"{result['sent']}; expected {expected}")
    result["rate"] = recipients / result["seconds"]
    result["cpu_ms"] = result["cpu_s"] * 1000 / recipients
    result["sink_cpu_ms"] = sink_cpu * 1000 / recipients
    return result


# --------------------------------------------------------------------- driver


def bench(db: Database, recipients: int, repeat: int, stale: bool) -> dict[str, Any]:
    url = db.build(recipients)
    rounds = []
    sides = ("personvern", "bare", "floor", *(("baseline",) if BASELINE_SRC else ()))
    for i in range(repeat):
        order = sides[i % len(sides):] + sides[:i % len(sides)]
        result = {side: _measured(side, url, recipients) for side in order}
        rounds.append(result)
        print(f"  {db.name} {recipients:>7,} round {i + 1}: personvern "
              f"{result['personvern']['rate']:.0f} msg/s "
              f"({result['personvern']['maxrss_kb'] / 1024:.0f} MB, "
              f"{result['personvern']['cpu_ms']:.2f} ms CPU/msg), bare "
              f"{result['bare']['rate']:.0f} msg/s ({result['bare']['cpu_ms']:.2f} ms CPU/msg), "
              f"floor {result['floor']['rate']:.0f} msg/s "
              f"({result['floor']['cpu_ms']:.2f} ms CPU/msg)"
              + (f", baseline {result['baseline']['rate']:.0f} msg/s "
                 f"({result['baseline']['maxrss_kb'] / 1024:.0f} MB)" if BASELINE_SRC else ""),
              flush=True)
    ours = statistics.median(r["personvern"]["rate"] for r in rounds)
    bare = statistics.median(r["bare"]["rate"] for r in rounds)
    floor = statistics.median(r["floor"]["rate"] for r in rounds)
    ratios = [r["personvern"]["rate"] / r["bare"]["rate"] for r in rounds]
    floor_ratios = [r["personvern"]["rate"] / r["floor"]["rate"] for r in rounds]
    out: dict[str, Any] = {
        "database": db.name,
        "recipients": recipients,
        "rounds": repeat,
        "connections": CONNECTIONS,
        "sink_processes": SINK_PROCESSES,
        "personvern_msg_s": round(ours),
        "bare_msg_s": round(bare),
        "ratio": round(statistics.median(ratios), 2),
        "floor_msg_s": round(floor),
        "floor_ratio": round(statistics.median(floor_ratios), 2),
        "round_rates": [[round(r[side]["rate"]) for side in ("personvern", "bare", "floor")]
                        for r in rounds],
        "personvern_maxrss_mb": round(max(r["personvern"]["maxrss_kb"] for r in rounds) / 1024, 1),
        "personvern_rss_before_mb": round(
            max(r["personvern"]["maxrss_before_kb"] for r in rounds) / 1024, 1),
        "bare_maxrss_mb": round(max(r["bare"]["maxrss_kb"] for r in rounds) / 1024, 1),
        "personvern_cpu_ms_per_msg": round(
            statistics.median(r["personvern"]["cpu_ms"] for r in rounds), 3),
        "bare_cpu_ms_per_msg": round(statistics.median(r["bare"]["cpu_ms"] for r in rounds), 3),
        "floor_cpu_ms_per_msg": round(
            statistics.median(r["floor"]["cpu_ms"] for r in rounds), 3),
        "sink_cpu_ms_per_msg": round(
            statistics.median(r["personvern"]["sink_cpu_ms"] for r in rounds), 3),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
    }
    if BASELINE_SRC:
        out["baseline_msg_s"] = round(statistics.median(r["baseline"]["rate"] for r in rounds))
        out["baseline_maxrss_mb"] = round(
            max(r["baseline"]["maxrss_kb"] for r in rounds) / 1024, 1)
        out["baseline_cpu_ms_per_msg"] = round(
            statistics.median(r["baseline"]["cpu_ms"] for r in rounds), 3)
    if stale:
        stale_url = db.build(recipients, analyze=False)
        result = {side: _measured(side, stale_url, recipients) for side in ("personvern", "floor")}
        out["no_statistics_personvern_msg_s"] = round(result["personvern"]["rate"])
        out["no_statistics_floor_msg_s"] = round(result["floor"]["rate"])
        print(f"  {db.name} {recipients:>7,} without statistics: personvern "
              f"{result['personvern']['rate']:.0f} msg/s, floor {result['floor']['rate']:.0f}",
              flush=True)
    return out


def _markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | recipients | personvern (msg/s) | bare (msg/s) | ratio | floor (msg/s) "
        "| ratio | CPU per copy: personvern / bare / floor / sink (ms) "
        "| without statistics (msg/s) | before issue 10 (msg/s) | peak RSS (MB) "
        "| of which before the send | rounds | load average |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(results, key=lambda r: (r["database"], r["recipients"])):
        if "floor_msg_s" not in r:
            continue  # written by an earlier version of this script
        stale = r.get("no_statistics_personvern_msg_s")
        baseline = r.get("baseline_msg_s")
        before = f"{baseline:,} ({r.get('baseline_maxrss_mb', 0):.0f} MB)" if baseline else "–"
        lines.append(
            f"| {r['database']} | {r['recipients']:,} | {r['personvern_msg_s']:,} "
            f"| {r['bare_msg_s']:,} | {r['ratio']:.2f}× | {r['floor_msg_s']:,} "
            f"| {r['floor_ratio']:.2f}× | {r['personvern_cpu_ms_per_msg']:.2f} / "
            f"{r['bare_cpu_ms_per_msg']:.2f} / {r['floor_cpu_ms_per_msg']:.2f} / "
            f"{r['sink_cpu_ms_per_msg']:.2f} | {f'{stale:,}' if stale else '–'} "
            f"| {before} "
            f"| {r['personvern_maxrss_mb']:.0f} | {r['personvern_rss_before_mb']:.0f} "
            f"| {r['rounds']} | {r['load_average']} |"
        )
    return "\n".join(lines) + "\n"


def _write(result: dict[str, Any] | None) -> None:
    """Keep ``result`` (if any) and write the table of every kept result into the docs."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    if result is not None:
        path = RESULTS / f"newsletter-{result['database']}-{result['recipients']}.json"
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    results = [json.loads(p.read_text(encoding="utf-8"))
               for p in sorted(RESULTS.glob("newsletter-*.json"))]
    if DOC.exists():
        text = DOC.read_text(encoding="utf-8")
        if MARK_BEGIN in text and MARK_END in text:
            head, rest = text.split(MARK_BEGIN, 1)
            _, tail = rest.split(MARK_END, 1)
            DOC.write_text(f"{head}{MARK_BEGIN}\n{_markdown(results)}{MARK_END}{tail}",
                           encoding="utf-8")


def _prefix(value: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", value):
        raise argparse.ArgumentTypeError(
            f"{value!r}: lower-case letters, digits and _ (not first a digit), at most 40"
        )
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, action="append",
                        help="size (repeatable); default 20,000 and 100,000")
    parser.add_argument("--database-url", default=None,
                        help="where to create the databases: a PostgreSQL server URL (the "
                        "database name is replaced) or sqlite:///path.sqlite3; default "
                        "BENCH_POSTGRES_URL")
    parser.add_argument("--sqlite", action="store_true", help="SQLite files under bench/data")
    parser.add_argument("--db-prefix", type=_prefix, default="bench", metavar="NAME",
                        help="the databases are named NAME_newsletter_N (SQLite: files "
                        "NAME-newsletter-N…), so two runs on one server do not collide; one "
                        "of the same name and size is reused (default: bench)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--baseline-src", metavar="DIR", default="",
                        help="also time the send of an earlier checkout (its src/) in the "
                        "same rounds, e.g. one made with git archive")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: 500 recipients, one round, checks only, writes nothing")
    parser.add_argument("--no-write", action="store_true",
                        help="check and print only; leave bench/results and the docs alone")
    parser.add_argument("--table", action="store_true",
                        help="only write the table of bench/results/newsletter-*.json into "
                        "docs/performance.md")
    parser.add_argument("--worker", choices=["load", "sink", "personvern", "bare", "floor"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-analyze", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "sink":
        return sink(SINK_PROCESSES)
    if args.worker == "load":
        _setup_django(args.database_url)
        print(json.dumps(load(args.recipients[0], analyze=not args.no_analyze)))
        return 0
    if args.worker == "personvern":
        print(json.dumps(send_personvern(args.database_url)))
        return 0
    if args.worker in ("bare", "floor"):
        print(json.dumps(send_bare(args.database_url, args.port, CONNECTIONS,
                                   raw=args.worker == "floor")))
        return 0
    if args.table:
        _write(None)
        return 0
    global BASELINE_SRC  # noqa: PLW0603 - read by the rounds
    BASELINE_SRC = args.baseline_src
    sizes = [500] if args.smoke else (args.recipients or [20_000, 100_000])
    repeat = 1 if args.smoke else args.repeat
    db = Database(args.database_url, args.db_prefix, args.sqlite)
    try:
        for recipients in sizes:
            result = bench(db, recipients, repeat,
                           stale=not db.sqlite and recipients == min(sizes))
            print(json.dumps(result), flush=True)
            if not (args.smoke or args.no_write):
                _write(result)
    finally:
        if args.smoke or not args.keep:
            db.drop_all(sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
