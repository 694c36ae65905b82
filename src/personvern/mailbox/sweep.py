"""The mailbox sweep: e-mail retention on the mail server itself (R19, R21).

``personvern mailbox sweep`` (and the nightly ``mailbox-sweep`` job) reads the
staff mailboxes named in ``PERSONVERN_MAILBOX_IMAP_URLS`` over IMAP and, per
mailbox:

1. Looks at every message it has not seen before (UIDs above the mailbox's
   high-water mark, :class:`~personvern.mailbox.models.MailboxState`): reads
   it with ``BODY.PEEK`` (nothing marked read), scans every part for malware
   (:mod:`personvern.core.scanning`), and records the metadata the rule needs
   in a :class:`~personvern.mailbox.models.MailMessage` per known
   correspondent: person (matched by address, never created), direction,
   mailbox, subject, time received (the server's INTERNALDATE). Bodies and
   attachments are never stored.
2. Deletes on the server the messages the policy's ``email-correspondence``
   rule makes due, exactly the rows the retention engine would delete
   (:func:`personvern.retention.engine.due_rows`: the period from the policy;
   holds, keeping restrictions, and the customer, partner and sales-process
   grounds of :mod:`personvern.mailbox.privacy` all keep a message), then
   deletes their rows, each deletion audited without its subject.

Decisions and safety design (ADR 0024):

- Unknown correspondents: a message none of whose correspondents is a known
  person is not recorded (nothing about them is stored, no person created).
  Once older than the period it is deleted like any other: no ground can
  apply to someone we know nothing of. Its deletion is audited without a
  person.
- A message to several known people has one row each and is deleted only when
  every row is due (one person's ground keeps the message).
- Idempotent: a message is identified by mailbox, UIDVALIDITY and UID (rows
  are unique on them); a message already recorded is not recorded again;
  when the server renumbers the mailbox (a new UIDVALIDITY), rows are found
  again by Message-ID. A row whose message has left the server (deleted by
  staff, or by a run that failed after expunging) is removed and audited as
  ``mail.gone``.
- Only the messages named by UID are removed: ``UID EXPUNGE`` (UIDPLUS) or
  MOVE, never a plain EXPUNGE, which would also remove what others marked
  deleted. With ``PERSONVERN_MAILBOX_MOVE_TO`` a message is moved to that
  folder instead (MOVE, or COPY + ``UID EXPUNGE``): the server's own policy
  (Dovecot's ``autoexpunge``) must then empty that folder.
- Server first, database second: the database rows go only after the server
  confirmed the removal. If a run fails between the two, the next one finds
  the rows' messages gone and removes the rows.
- Infected (R21): a part in which the scanner finds malware gets the message
  flagged on the server (``\\Flagged`` and the keyword ``$Infected``) so the
  mail client shows it, the row's scan state says "do not open", and the
  finding is audited (signature, no file name). The message is neither
  opened nor moved: it is deleted when its time comes. A message the scanner
  could not check is recorded as not scanned and scanned again next run.
- ``--dry-run`` runs everything inside a transaction that is rolled back, and
  changes nothing on the server (the mailbox is selected read-only).
"""

from __future__ import annotations

import imaplib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import getaddresses
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from personvern.core.audit import entry_key, new_entry
from personvern.core.imap import (
    IMAPAddress,
    IMAPError,
    expunge_uids,
    logged_in,
    move_uids,
    select,
)
from personvern.core.models import AuditEntry, EmailIdentity, Person
from personvern.core.policy import current_policy
from personvern.core.scanning import Verdict, audit_scan
from personvern.core.services import normalise_email
from personvern.mailbox.models import Direction, MailboxState, MailMessage, ScanState
from personvern.mailbox.selectors import relationship_ground_q
from personvern.mailbox.services import ACTIVITY, keep_under_correspondent_holds
from personvern.retention.clock import oslo_date, oslo_midnight
from personvern.retention.engine import due_rows
from personvern.retention.targets import Target, iter_targets, target_problems
from personvern.rights.intake.message import parse_message, scan_parts, storable

#: Messages fetched per IMAP command, and UIDs removed per command.
FETCH_BATCH = 100
REMOVE_BATCH = 500
#: The keyword an infected message gets on the server (with ``\\Flagged``).
INFECTED_KEYWORD = "$Infected"
#: Channel of the sweep's audit entries of virus scans.
SCAN_CHANNEL = "mailbox-sweep"

Progress = Callable[[str, int, int], None]


class SweepError(Exception):
    """The sweep cannot run: configuration or policy."""


@dataclass(frozen=True)
class SweepConfig:
    """Which mailboxes, the password, where deleted mail goes, which domains are ours."""

    urls: tuple[str, ...]
    password: str
    move_to: str = ""
    own_domains: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls) -> SweepConfig:
        return cls(
            urls=tuple(settings.PERSONVERN_MAILBOX_IMAP_URLS),
            password=settings.PERSONVERN_MAILBOX_IMAP_PASSWORD,
            move_to=settings.PERSONVERN_MAILBOX_MOVE_TO,
            own_domains=frozenset(settings.PERSONVERN_MAILBOX_OWN_DOMAINS),
        )


@dataclass
class MailboxReport:
    """What one mailbox's sweep did (counts only: no addresses, no subjects)."""

    mailbox: str
    new: int = 0
    recorded: int = 0
    unknown: int = 0
    infected: int = 0
    unscanned: int = 0
    kept_by_ground: int = 0
    kept_by_hold: int = 0
    deleted: int = 0
    gone: int = 0


@dataclass
class SweepReport:
    as_of: datetime
    dry_run: bool
    cutoff: date
    move_to: str
    mailboxes: list[MailboxReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(int(getattr(m, name)) for m in self.mailboxes)


@dataclass
class _Seen:
    """One message as read from the server."""

    uid: int
    arrived_at: datetime
    message_id: str
    subject: str
    senders: list[str]
    recipients: list[str]
    direction: str = Direction.IN
    addresses: list[str] = field(default_factory=list)  # the correspondents
    scan: str = ScanState.NONE
    infected: list[tuple[int, Any]] = field(default_factory=list)  # (part, result)
    errors: list[tuple[int, Any]] = field(default_factory=list)


def mailbox_label(address: IMAPAddress) -> str:
    """How a mailbox is named in rows and reports: ``user@host/folder``."""
    return f"{address.user}@{address.host}/{address.mailbox}"[:100]


def mail_targets() -> list[Target]:
    """The policy's retention rules for filed e-mail (refused if any is unsound)."""
    targets = [t for t in iter_targets(current_policy()) if t.holder.model is MailMessage]
    if not targets:
        raise SweepError(
            f"the policy has no retention rule for the activity {ACTIVITY!r}: nothing to sweep by"
        )
    for target in targets:
        problems = target_problems(target)
        if problems:
            raise SweepError(f"retention target {target.key} is refused: {'; '.join(problems)}")
    return targets


def _catch_all(targets: list[Target]) -> Target:
    """The rule without a cohort: the one for mail of unknown correspondents."""
    for target in targets:
        if not target.rule.cohort:
            return target
    raise SweepError(f"the policy's {ACTIVITY!r} rules all name a cohort: no rule for the rest")


class _Rehearsed(Exception):
    pass


@contextmanager
def _transaction(dry_run: bool) -> Iterator[None]:
    """The sweep's database work: rolled back at the end of a dry run."""
    if not dry_run:
        yield
        return
    try:
        with transaction.atomic():
            yield
            raise _Rehearsed
    except _Rehearsed:
        pass


def mailbox_sweep(
    *,
    actor: str,
    now: datetime | None = None,
    dry_run: bool = False,
    config: SweepConfig | None = None,
    progress: Progress | None = None,
) -> SweepReport:
    """Sweep every configured mailbox (see the module's docstring); a report of counts."""
    now = now or timezone.now()
    config = config or SweepConfig.from_settings()
    if not config.urls:
        raise SweepError("no mailbox is configured (PERSONVERN_MAILBOX_IMAP_URLS)")
    addresses = [IMAPAddress.parse(url) for url in config.urls]
    targets = mail_targets()
    catch_all = _catch_all(targets)
    cutoff = catch_all.rule.keep.subtract_from(oslo_date(now))
    report = SweepReport(as_of=now, dry_run=dry_run, cutoff=cutoff, move_to=config.move_to)
    with _transaction(dry_run):
        for address in addresses:
            report.mailboxes.append(
                _sweep_one(address, config=config, targets=targets, cutoff=cutoff, actor=actor,
                           now=now, dry_run=dry_run, progress=progress)
            )
    return report


def _sweep_one(
    address: IMAPAddress,
    *,
    config: SweepConfig,
    targets: list[Target],
    cutoff: date,
    actor: str,
    now: datetime,
    dry_run: bool,
    progress: Progress | None,
) -> MailboxReport:
    label = mailbox_label(address)
    result = MailboxReport(mailbox=label)
    with logged_in(address, config.password) as client:
        validity = select(client, address.mailbox, readonly=dry_run)
        on_server = set(_search(client, "ALL"))
        state = MailboxState.objects.filter(mailbox=label).first()
        last_uid = state.last_uid if state and state.uid_validity == validity else 0
        rows = MailMessage.objects.filter(mailbox=label, uid_validity=validity,
                                          uid__isnull=False)
        recorded: set[int] = {uid for uid in rows.values_list("uid", flat=True) if uid}
        unscanned: set[int] = {
            uid for uid in rows.filter(scan=ScanState.UNSCANNED).values_list("uid", flat=True)
            if uid
        }
        new = sorted(uid for uid in on_server if uid > last_uid)
        # Older messages not recorded: an unknown correspondent's, or a known one's whose
        # row the retention run removed. The server's BEFORE is a day in its own time
        # zone: two days more are asked for, and the exact time is decided here.
        until = cutoff + timedelta(days=2)
        old = set(_search(client, "BEFORE", _imap_date(until)))
        look = sorted(set(new) | (old - recorded) | (unscanned & on_server))
        total = len(look)
        unknown_due: list[_Seen] = []
        stuck_at: int | None = None
        done = 0
        for chunk in _chunks(look, FETCH_BATCH):
            full = [uid for uid in chunk if uid in new or uid in unscanned]
            seen = _fetch(client, full, body=True) + _fetch(
                client, [uid for uid in chunk if uid not in full], body=False)
            for message in seen:
                message.direction, correspondents = _direction(message, config.own_domains)
                message.addresses = correspondents
            with transaction.atomic():
                unknown = _record(seen, label=label, validity=validity, actor=actor, now=now,
                                  result=result, new=set(new))
            for message in unknown:
                if message.uid in new and message.scan == ScanState.UNSCANNED:
                    stuck_at = message.uid if stuck_at is None else min(stuck_at, message.uid)
                if message.arrived_at < oslo_midnight(cutoff):
                    unknown_due.append(message)
            infected = [m.uid for m in seen if m.infected]
            if infected and not dry_run:
                client.uid("STORE", ",".join(map(str, infected)), "+FLAGS.SILENT",
                           f"(\\Flagged {INFECTED_KEYWORD})")
            done += len(chunk)
            if progress:
                progress(label, done, total)
        result.new = len(new)
        _remove(client, label=label, validity=validity, targets=targets, now=now, actor=actor,
                on_server=on_server, unknown_due=unknown_due, move_to=config.move_to,
                dry_run=dry_run, result=result, cutoff=cutoff)
        high = max(on_server | {last_uid}) if stuck_at is None else stuck_at - 1
        MailboxState.objects.update_or_create(
            mailbox=label,
            defaults={"uid_validity": validity, "last_uid": high, "swept_at": now},
        )
    return result


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _imap_date(day: date) -> str:
    """``day`` as IMAP's SEARCH writes dates (English month names whatever the locale)."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


def _search(client: imaplib.IMAP4, *criteria: str) -> list[int]:
    status, data = client.uid("SEARCH", *criteria)
    if status != "OK":
        raise IMAPError(f"the server refused the search: {data!r}")
    return [int(uid) for uid in (data[0] or b"").split()]


def _fetch(client: imaplib.IMAP4, uids: list[int], *, body: bool) -> list[_Seen]:
    """The messages ``uids``, parsed; with ``body``, every part scanned (R21)."""
    if not uids:
        return []
    what = "BODY.PEEK[]" if body else "BODY.PEEK[HEADER]"
    status, data = client.uid("FETCH", ",".join(map(str, uids)), f"(UID INTERNALDATE {what})")
    if status != "OK":
        raise IMAPError(f"the server refused to fetch messages: {status}")
    found: list[_Seen] = []
    for part in data:
        if not isinstance(part, tuple):
            continue
        head, raw = part
        head_text = head.decode("ascii", "replace")
        try:
            uid = int(head_text.split("UID ", 1)[1].split()[0].rstrip(")"))
        except (IndexError, ValueError):
            continue
        arrived = imaplib.Internaldate2tuple(head)
        arrived_at = (datetime.fromtimestamp(time.mktime(arrived), tz=UTC) if arrived
                      else timezone.now())
        message = parse_message(bytes(raw))
        seen = _Seen(
            uid=uid,
            arrived_at=arrived_at,
            message_id=storable(str(message.get("Message-ID", "") or "")).strip()[:255],
            subject=storable(str(message.get("Subject", "") or "")).strip()[:300],
            senders=_addresses(message, "From"),
            recipients=_addresses(message, "To", "Cc", "Bcc"),
        )
        if body:
            verdicts = [(i, r) for i, (_name, _size, r) in enumerate(scan_parts(message))]
            seen.infected = [(i, r) for i, r in verdicts if r.verdict == Verdict.INFECTED]
            seen.errors = [(i, r) for i, r in verdicts if r.verdict == Verdict.ERROR]
            if seen.infected:
                seen.scan = ScanState.INFECTED
            elif seen.errors:
                seen.scan = ScanState.UNSCANNED
            elif any(r.verdict == Verdict.DISABLED for _i, r in verdicts):
                seen.scan = ScanState.DISABLED
            else:
                seen.scan = ScanState.CLEAN
        found.append(seen)
    return found


def _addresses(message: Any, *headers: str) -> list[str]:
    values: list[str] = []
    for header in headers:
        values += [str(v) for v in message.get_all(header, [])]
    found = []
    for _name, address in getaddresses(values):
        if "@" in address:
            try:
                found.append(normalise_email(address))
            except ValueError:
                continue
    return found


def _direction(message: _Seen, own_domains: frozenset[str]) -> tuple[str, list[str]]:
    """Sent by us (the From address is in one of our domains) or received; the
    correspondents' addresses: the recipients of what we sent, the sender of the rest."""
    senders, recipients = message.senders, message.recipients

    def ours(address: str) -> bool:
        return address.rsplit("@", 1)[-1] in own_domains

    if senders and all(ours(a) for a in senders):
        return Direction.OUT, [a for a in recipients if not ours(a)]
    return Direction.IN, [a for a in senders if not ours(a)]


def _record(
    seen: list[_Seen],
    *,
    label: str,
    validity: int,
    actor: str,
    now: datetime,
    result: MailboxReport,
    new: set[int],
) -> list[_Seen]:
    """Record the messages of known correspondents; the messages of unknown ones.

    Set-based: one query for the addresses, one for the rows already there.
    """
    wanted = {a for m in seen for a in m.addresses}
    person_of = dict(
        EmailIdentity.objects.filter(address__in=wanted).values_list("address", "person_id")
    )
    uids = [m.uid for m in seen]
    existing = {
        (uid, person): (pk, scan)
        for pk, uid, person, scan in MailMessage.objects.filter(
            mailbox=label, uid_validity=validity, uid__in=uids
        ).values_list("pk", "uid", "person_id", "scan")
    }
    # Rows of an earlier UIDVALIDITY, found again by Message-ID.
    renumbered = {
        (message_id, person): pk
        for pk, message_id, person in MailMessage.objects.filter(mailbox=label)
        .exclude(uid_validity=validity)
        .filter(uid__isnull=False, message_id__in=[m.message_id for m in seen if m.message_id])
        .values_list("pk", "message_id", "person_id")
    }
    persons = Person.objects.in_bulk(set(person_of.values()))
    key = entry_key()
    entries: list[AuditEntry] = []
    unknown: list[_Seen] = []
    recorded: list[MailMessage] = []
    for message in seen:
        matched = list(dict.fromkeys(person_of[a] for a in message.addresses if a in person_of))
        if not matched:
            unknown.append(message)
            if message.uid in new:
                result.unknown += 1
        for person_id in matched:
            person = persons[person_id]
            if (message.uid, person_id) in existing:
                pk, scan = existing[(message.uid, person_id)]
                if scan == ScanState.UNSCANNED and message.scan not in ("", ScanState.UNSCANNED):
                    MailMessage.objects.filter(pk=pk).update(scan=message.scan)
                continue
            if (message.message_id, person_id) in renumbered:
                pk = renumbered.pop((message.message_id, person_id))
                MailMessage.objects.filter(pk=pk).update(uid_validity=validity, uid=message.uid)
                continue
            row = MailMessage.objects.create(
                person=person,
                direction=message.direction,
                mailbox=label,
                subject=message.subject,
                received_at=message.arrived_at,
                uid_validity=validity,
                uid=message.uid,
                message_id=message.message_id,
                scan=message.scan,
            )
            result.recorded += 1
            recorded.append(row)
            entries.append(new_entry(
                actor=actor, action="mail.recorded", person=person, activity=ACTIVITY,
                data={"message": row.pk, "direction": str(message.direction),
                      "mailbox": label, "scan": str(message.scan)},
                now=now, key=key,
            ))
        if message.infected:
            result.infected += 1
            for part, verdict in message.infected:
                subjects: list[Person | None] = [persons[p] for p in matched] or [None]
                for subject in subjects:
                    audit_scan(verdict, actor=actor, activity=ACTIVITY, channel=SCAN_CHANNEL,
                               size=0, person=subject,
                               data={"mailbox": label, "uid": message.uid, "part": part},
                               now=now)
        elif message.scan == ScanState.UNSCANNED:
            result.unscanned += 1
    AuditEntry.objects.bulk_create(entries)
    # A hold on a correspondent covers their mail filed after it too (mail_correspondents_keep).
    keep_under_correspondent_holds(recorded, actor=actor, now=now)
    return unknown


def _remove(
    client: imaplib.IMAP4,
    *,
    label: str,
    validity: int,
    targets: list[Target],
    now: datetime,
    actor: str,
    on_server: set[int],
    unknown_due: list[_Seen],
    move_to: str,
    dry_run: bool,
    result: MailboxReport,
    cutoff: date,
) -> None:
    """Delete what is due on the server, then its rows; remove rows whose mail is gone."""
    rows = MailMessage.objects.filter(mailbox=label, uid_validity=validity, uid__isnull=False)
    due_pks: set[int] = set()
    for target in targets:
        due_pks |= set(due_rows(target, now).filter(pk__in=rows.values("pk"))
                       .values_list("pk", flat=True))
    by_uid: dict[int, list[tuple[int, int, str, datetime]]] = {}
    for pk, uid, person_id, direction, received_at in rows.values_list(
        "pk", "uid", "person_id", "direction", "received_at"
    ):
        assert uid is not None  # rows is filtered on it
        by_uid.setdefault(uid, []).append((pk, person_id, direction, received_at))
    due_uids = {
        uid for uid, members in by_uid.items()
        if uid in on_server and all(pk in due_pks for pk, *_rest in members)
    }
    old = rows.filter(received_at__lt=oslo_midnight(cutoff)).exclude(pk__in=due_pks)
    result.kept_by_ground = old.filter(relationship_ground_q()).count()
    result.kept_by_hold = old.exclude(relationship_ground_q()).count()
    unknown_uids = {m.uid for m in unknown_due if m.uid in on_server}
    remove = sorted(due_uids | unknown_uids)
    if remove and not dry_run:
        for chunk in _chunks(remove, REMOVE_BATCH):
            uids = ",".join(map(str, chunk))
            if move_to:
                move_uids(client, uids, move_to)
            else:
                expunge_uids(client, uids)
    result.deleted = len(remove)
    how = {"moved_to": move_to} if move_to else {}
    key = entry_key()
    entries: list[AuditEntry] = []
    persons = Person.objects.in_bulk(
        {person_id for uid in due_uids for _pk, person_id, *_r in by_uid[uid]}
    )
    deleted_pks: list[int] = []
    for uid in sorted(due_uids):
        for pk, person_id, direction, received_at in by_uid[uid]:
            deleted_pks.append(pk)
            entries.append(new_entry(
                actor=actor, action="mail.deleted", person=persons[person_id],
                activity=ACTIVITY,
                data={"message": pk, "mailbox": label, "uid": uid, "direction": direction,
                      "received": oslo_date(received_at).isoformat(), **how},
                now=now, key=key,
            ))
    for message in unknown_due:
        if message.uid in unknown_uids:
            entries.append(new_entry(
                actor=actor, action="mail.deleted", activity=ACTIVITY,
                data={"mailbox": label, "uid": message.uid, "direction": message.direction,
                      "received": oslo_date(message.arrived_at).isoformat(),
                      "correspondent": "unknown", **how},
                now=now, key=key,
            ))
    deleted = set(deleted_pks)
    gone = [
        pk for pk, uid, row_validity in MailMessage.objects.filter(
            mailbox=label, uid__isnull=False
        ).values_list("pk", "uid", "uid_validity")
        if pk not in deleted and (row_validity != validity or uid not in on_server)
    ]
    gone_rows = list(MailMessage.objects.filter(pk__in=gone).select_related("person"))
    for row in gone_rows:
        entries.append(new_entry(
            actor=actor, action="mail.gone", person=row.person, activity=ACTIVITY,
            data={"message": row.pk, "mailbox": label},
            now=now, key=key,
        ))
    result.gone = len(gone_rows)
    with transaction.atomic():
        AuditEntry.objects.bulk_create(entries)
        _delete_rows([*deleted_pks, *(row.pk for row in gone_rows)])


def _delete_rows(pks: list[int]) -> None:
    """Delete rows, in batches. Their row holds stay (lifted or expired: a row under an
    active hold is never due); the retention run forgets holds whose row is gone."""
    for start in range(0, len(pks), REMOVE_BATCH):
        MailMessage.objects.filter(pk__in=pks[start:start + REMOVE_BATCH]).delete()
