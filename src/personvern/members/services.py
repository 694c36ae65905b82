"""Writes of the member feeds: memberships from a feed, opt-outs from member pages.

Safety design, up front:

- A feed is checked whole first (:mod:`personvern.members.feeds`); one with any
  bad row is refused with every problem named and nothing written.
- A checked feed is applied in one transaction (per organisation, serialised by
  an advisory lock on PostgreSQL): it is all there or not at all.
- Set-based: the existing memberships and addresses are looked up in batches
  (``member_id IN …``, ``address IN …``), the new rows are bulk-inserted, the
  changed ones bulk-updated, and each person changed gets one audit entry,
  bulk-inserted too. The cost is a few queries per batch of
  ``PERSONVERN_BATCH_SIZE`` members, not per member. After a load, PostgreSQL's
  statistics of the touched tables are refreshed (ANALYZE), so the planner
  does not go on planning for the tables as they were before it.
- Idempotent: a membership is keyed by (organisation, member number); a
  second run of the same feed finds every row as it is and changes nothing.

A person is found by the member number (a membership of the organisation that
has it) or else by the e-mail address (normalised); a membership recorded
before the feeds (no member number) is adopted by the first feed that names
its person. Unknown people are created with their address (not verified).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log, entry_key, new_entry, pseudonym
from personvern.core.models import AuditEntry, EmailIdentity, Membership, Organisation, Person
from personvern.members.feeds import WHOLE_FEED, FeedRefused, MemberRow, OptOutRow, Problem

Progress = Callable[[int, int], None]
T = TypeVar("T")

#: Rows per IN (…) lookup: well inside SQLite's limit of bound parameters.
LOOKUP_CHUNK = 500

EMAIL_OF_ANOTHER = _(
    "the address belongs to another person here than member number %(member_id)s"
)
FEED_DATED_AHEAD = _(
    "the feed is dated %(as_of)s, after today (%(today)s): a membership cannot be "
    "ended on a day that has not come"
)
EMPTY_FULL_FEED = _(
    "a full feed without any member would end every membership of the organisation; "
    "send the members, or leave out the full flag"
)
EMAIL_OF_OTHER_MEMBER = _(
    "the address belongs to member number %(other)s of this organisation here"
)

#: Advisory lock ids (PostgreSQL) that serialise two feeds of one organisation.
_LOCKS = {Organisation.ADVOKATFORENINGEN: 0x4D454D41, Organisation.JURISTFORBUNDET: 0x4D454D4A}


def member_page_channel(organisation: Organisation | str) -> str:
    """The consent-ledger and unsubscribe channel of an organisation's member page."""
    return f"{organisation}-member-page"


def oslo_today(now: datetime | None = None) -> date:
    """Today in the legal calendar (Europe/Oslo), the default date of a feed."""
    return timezone.localdate(now or timezone.now())


def cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _lock(organisation: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCKS[Organisation(organisation)]])


def analyze(tables: Iterable[str]) -> None:
    """Refresh PostgreSQL's planner statistics of ``tables`` after a bulk load
    (autovacuum would, minutes later; queries planned meanwhile go wrong)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in sorted(set(tables)):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


@dataclass
class ImportSummary:
    """What a member feed changed (``as_dict`` is the API's answer)."""

    organisation: str
    as_of: date
    full: bool
    rows: int = 0
    started: int = 0
    ended: int = 0
    changed: int = 0
    unchanged: int = 0
    persons_created: int = 0
    addresses_added: int = 0
    subscriptions_ended: int = 0

    @property
    def nothing_changed(self) -> bool:
        return not (self.started or self.ended or self.changed or self.persons_created
                    or self.addresses_added or self.subscriptions_ended)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["nothing_changed"] = self.nothing_changed
        return data


@dataclass
class _Current:
    pk: int
    person_id: int
    member_id: str
    valid_from: date
    valid_to: date | None


def _memberships_by_number(organisation: str, numbers: list[str]) -> dict[str, _Current]:
    found: dict[str, _Current] = {}
    for chunk in _chunks(numbers, LOOKUP_CHUNK):
        for row in Membership.objects.filter(organisation=organisation, member_id__in=chunk).values(
            "pk", "person_id", "member_id", "valid_from", "valid_to"
        ):
            found[row["member_id"]] = _Current(**row)
    return found


def _persons_by_address(addresses: list[str], *, member_of: str = "") -> dict[str, int]:
    """Owners of these addresses; with ``member_of``, only persons with a membership
    (past or present) of that organisation."""
    found: dict[str, int] = {}
    identities = EmailIdentity.objects.all()
    if member_of:
        identities = identities.filter(
            Exists(Membership.objects.filter(organisation=member_of, person=OuterRef("person")))
        )
    for chunk in _chunks(addresses, LOOKUP_CHUNK):
        found.update(identities.filter(address__in=chunk).values_list("address", "person_id"))
    return found


def _numbered_of_persons(organisation: str, person_ids: list[int]) -> dict[int, str]:
    """Member numbers this organisation's memberships already give these persons."""
    found: dict[int, str] = {}
    for chunk in _chunks(person_ids, LOOKUP_CHUNK):
        found.update(
            Membership.objects.filter(organisation=organisation, person_id__in=chunk)
            .exclude(member_id="")
            .values_list("person_id", "member_id")
        )
    return found


def _unnumbered_of_persons(organisation: str, person_ids: list[int]) -> dict[int, list[_Current]]:
    """Memberships recorded before the feeds (no member number), by person."""
    found: dict[int, list[_Current]] = {}
    for chunk in _chunks(person_ids, LOOKUP_CHUNK):
        for row in Membership.objects.filter(
            organisation=organisation, person_id__in=chunk, member_id=""
        ).values("pk", "person_id", "member_id", "valid_from", "valid_to"):
            found.setdefault(row["person_id"], []).append(_Current(**row))
    return found


def _public_ids(person_ids: Iterable[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(person_ids)), LOOKUP_CHUNK):
        found.update(
            (pk, str(public)) for pk, public in
            Person.objects.filter(pk__in=chunk).values_list("pk", "public_id")
        )
    return found


def _adoptable(unnumbered: list[_Current], row: MemberRow) -> _Current | None:
    """The pre-feed membership a feed row continues: the current one, or one that
    started the same day; ``None`` (a new period: the old one stays as history)."""
    for current in unnumbered:
        if current.valid_to is None or current.valid_from == row.member_from:
            return current
    return None


@dataclass
class _Plan:
    new_persons: list[tuple[MemberRow, Person]] = field(default_factory=list)
    new_addresses: list[tuple[int | None, MemberRow]] = field(default_factory=list)
    new_memberships: list[tuple[int | None, MemberRow]] = field(default_factory=list)
    updates: list[tuple[_Current, MemberRow, str]] = field(default_factory=list)


def members_import(
    *,
    organisation: Organisation | str,
    rows: Sequence[MemberRow],
    full: bool = False,
    as_of: date | None = None,
    actor: str,
    source: str = "file",
    now: datetime | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Apply a checked member feed of ``organisation`` (R3, R14, R17).

    Each row starts a membership (new member number), changes one (other dates)
    or finds it as it is. ``full``: the feed lists every member, so a current
    membership of the organisation that it does not name is ended on ``as_of``
    (default today in Oslo). A membership-based newsletter subscription whose
    membership has ended loses its basis and is ended too (see
    :func:`personvern.newsletter.services.newsletter_end_lapsed_membership_basis`).
    Raises :class:`~personvern.members.feeds.FeedRefused` (nothing written) when
    a row's address belongs to another person or member here.
    """
    from personvern.newsletter.services import newsletter_end_lapsed_membership_basis

    organisation = str(Organisation(organisation))
    now = now or timezone.now()
    as_of = as_of or oslo_today(now)
    size = batch_size or settings.PERSONVERN_BATCH_SIZE
    summary = ImportSummary(organisation=organisation, as_of=as_of, full=full, rows=len(rows))
    if full and not rows:
        # An empty or cut-off export is the likely cause, not an organisation without members.
        raise FeedRefused([Problem(WHOLE_FEED, "full", str(EMPTY_FULL_FEED))])
    if as_of > oslo_today(now):
        raise FeedRefused([Problem(WHOLE_FEED, "as_of", str(FEED_DATED_AHEAD % {
            "as_of": as_of.isoformat(), "today": oslo_today(now).isoformat()}))])
    total = len(rows) * 2
    if progress:
        progress(0, total)
    with transaction.atomic():
        _lock(organisation)
        numbered = _memberships_by_number(organisation, [r.member_id for r in rows])
        owners = _persons_by_address([r.email for r in rows])
        known = sorted(set(owners.values()))
        numbers_of = _numbered_of_persons(organisation, known)
        unnumbered = _unnumbered_of_persons(organisation, known)
        if progress:
            progress(len(rows), total)

        plan = _Plan()
        problems: list[Problem] = []
        matched: set[int] = set()
        for row in rows:
            current = numbered.get(row.member_id)
            owner = owners.get(row.email)
            if current is not None:
                if owner is not None and owner != current.person_id:
                    problems.append(Problem(row.where, "email", str(
                        EMAIL_OF_ANOTHER % {"member_id": row.member_id})))
                    continue
                if owner is None:
                    plan.new_addresses.append((current.person_id, row))
                matched.add(current.pk)
                plan.updates.append((current, row, ""))
            elif owner is not None:
                other = numbers_of.get(owner)
                if other is not None:
                    problems.append(Problem(row.where, "email", str(
                        EMAIL_OF_OTHER_MEMBER % {"other": other})))
                    continue
                adopted = _adoptable(unnumbered.get(owner, []), row)
                if adopted is not None:
                    matched.add(adopted.pk)
                    plan.updates.append((adopted, row, row.member_id))
                else:
                    plan.new_memberships.append((owner, row))
            else:
                person = Person(given_name=row.given_name, family_name=row.family_name,
                                created_at=now)
                plan.new_persons.append((row, person))
                plan.new_addresses.append((None, row))
                plan.new_memberships.append((None, row))
        if problems:
            raise FeedRefused(problems)

        audit: list[tuple[int, str, dict[str, Any]]] = []  # (person id, action, data)
        ended_persons: list[int] = []
        # New persons first: their ids are needed by their address and membership.
        person_of_row: dict[str, int] = {}
        for batch in _chunks(plan.new_persons, size):
            created = Person.objects.bulk_create([p for _row, p in batch])
            for (row, _p), person in zip(batch, created, strict=True):
                person_of_row[row.member_id] = person.pk
                audit.append((person.pk, "person.created", {}))
        summary.persons_created = len(plan.new_persons)

        identities = [
            EmailIdentity(person_id=pid or person_of_row[row.member_id], address=row.email,
                          created_at=now)
            for pid, row in plan.new_addresses
        ]
        EmailIdentity.objects.bulk_create(identities, batch_size=size)
        audit.extend((i.person_id, "person.email_added", {}) for i, (pid, _row)
                     in zip(identities, plan.new_addresses, strict=True) if pid is not None)
        summary.addresses_added = sum(1 for pid, _row in plan.new_addresses if pid is not None)

        if full:
            # Before the feed's new memberships exist: only the existing can be missing.
            gone = _end_missing(organisation, matched, as_of)
            summary.ended += len(gone)
            ended_persons.extend(person_id for _pk, person_id in gone)
            audit.extend((person_id, "membership.ended", {"missing_from_full_feed": True})
                         for _pk, person_id in gone)

        new = [
            Membership(person_id=pid or person_of_row[row.member_id], organisation=organisation,
                       member_id=row.member_id, valid_from=row.member_from,
                       valid_to=row.member_to)
            for pid, row in plan.new_memberships
        ]
        Membership.objects.bulk_create(new, batch_size=size)
        summary.started = len(new)
        audit.extend((m.person_id, "membership.added", {"member_from": m.valid_from.isoformat()})
                     for m in new)

        changed: list[Membership] = []
        readdressed = {pid for pid, _row in plan.new_addresses if pid is not None}
        for current, row, adopted_number in plan.updates:
            if not _differs(current, row, adopted_number):
                # A new address of a known member is a change of that member.
                if current.person_id in readdressed:
                    summary.changed += 1
                else:
                    summary.unchanged += 1
                continue
            ending = current.valid_to is None and row.member_to is not None
            if ending:
                summary.ended += 1
            else:
                summary.changed += 1
            if row.member_to is not None:
                # Ended now, or its end moved (earlier): the newsletter basis is checked.
                ended_persons.append(current.person_id)
            changed.append(Membership(
                pk=current.pk, member_id=adopted_number or current.member_id,
                valid_from=row.member_from, valid_to=row.member_to,
            ))
            audit.append((current.person_id, "membership.ended" if ending else "membership.changed",
                          {"fields": _changed_fields(current, row, adopted_number)}))
        # Small batches: a bulk update is one CASE over its batch for every row.
        Membership.objects.bulk_update(changed, ["member_id", "valid_from", "valid_to"],
                                       batch_size=min(size, LOOKUP_CHUNK))

        public = _public_ids(pid for pid, _action, _data in audit)
        key = entry_key()
        entries = [
            new_entry(actor=actor, action=action, subject=pseudonym(public[pid]),
                      data={"organisation": organisation, "feed": source, **data},
                      now=now, key=key)
            for pid, action, data in audit
        ]
        AuditEntry.objects.bulk_create(entries, batch_size=size)
        if ended_persons:
            summary.subscriptions_ended = newsletter_end_lapsed_membership_basis(
                person_ids=ended_persons, organisation=organisation, actor=actor, now=now,
                batch_size=size,
            )
        audit_log(actor=actor, action="members.imported", data=summary.as_dict(), now=now)
        if progress:
            progress(total, total)
    if not summary.nothing_changed:
        analyze([Person._meta.db_table, EmailIdentity._meta.db_table, Membership._meta.db_table])
    return summary


def _differs(current: _Current, row: MemberRow, adopted: str) -> bool:
    return bool(adopted) or (current.valid_from, current.valid_to) != (row.member_from,
                                                                       row.member_to)


def _changed_fields(current: _Current, row: MemberRow, adopted: str) -> list[str]:
    names = []
    if adopted:
        names.append("member_id")
    if current.valid_from != row.member_from:
        names.append("valid_from")
    if current.valid_to != row.member_to:
        names.append("valid_to")
    return names


def _end_missing(organisation: str, matched: set[int], as_of: date) -> list[tuple[int, int]]:
    """End, on ``as_of``, the current memberships of ``organisation`` that a full feed
    did not name (one that had not started yet ends the day it would have started).

    Call it before the feed's new memberships are inserted: only the existing ones
    can be missing. Two UPDATEs per chunk of keys, whatever the number of members.
    """
    current = (
        Membership.objects.filter(organisation=organisation)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=as_of))
        .order_by("pk")
        .values_list("pk", "person_id")
    )
    gone = [(pk, person_id) for pk, person_id in current if pk not in matched]
    for chunk in _chunks([pk for pk, _person in gone], LOOKUP_CHUNK):
        rows = Membership.objects.filter(pk__in=chunk)
        rows.filter(valid_from__lte=as_of).update(valid_to=as_of)
        rows.filter(valid_from__gt=as_of).update(valid_to=F("valid_from"))
    return gone


@dataclass
class OptOutSummary:
    """What an opt-out feed did (``as_dict`` is the API's answer).

    ``unknown`` and ``stale`` list the rows (file row numbers or list indexes)
    that changed nothing here: no person known by that member number or address,
    or an opt-out older than the person's current subscription.
    """

    organisation: str
    rows: int = 0
    unsubscribed: int = 0
    already_unsubscribed: int = 0
    not_subscribed: int = 0
    unknown: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)

    @property
    def nothing_changed(self) -> bool:
        return self.unsubscribed == 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["nothing_changed"] = self.nothing_changed
        return data


def member_optouts_apply(
    *,
    organisation: Organisation | str,
    rows: Sequence[OptOutRow],
    actor: str,
    now: datetime | None = None,
) -> OptOutSummary:
    """Apply opt-outs that members made on ``organisation``'s own member page (R18).

    Each takes effect at once: the person's newsletter subscription is ended
    through :func:`~personvern.newsletter.services.newsletter_unsubscribe` with
    the channel ``<organisation>-member-page``, which records the withdrawal in
    the consent ledger and audits it. The person is found by the member number,
    else by the address among the organisation's members (past or present): a
    person who was never its member is ``unknown`` to it. Repeating an opt-out
    changes nothing and is counted as already unsubscribed. A row naming nobody
    known here is reported (``unknown``), not an error: the organisation cannot
    know whom we know, and nothing about the row is stored. An opt-out dated before the person's
    current subscription started (they subscribed again since) is reported as
    ``stale`` and not applied. A member who is not subscribed (or no longer) has
    the opt-out remembered (:func:`~personvern.newsletter.services.newsletter_optout_record`),
    so that the membership does not subscribe them later (docs/decisions/0035).
    All in one transaction.
    """
    from personvern.newsletter.models import Subscription, SubscriptionStatus
    from personvern.newsletter.services import newsletter_optout_record, newsletter_unsubscribe

    organisation = str(Organisation(organisation))
    now = now or timezone.now()
    summary = OptOutSummary(organisation=organisation, rows=len(rows))
    channel = member_page_channel(organisation)
    with transaction.atomic():
        numbered = _memberships_by_number(organisation, [r.member_id for r in rows if r.member_id])
        # By address only among the organisation's own members (past or present): an
        # organisation's opt-outs touch its members, and its answer (unknown, not
        # subscribed) must not tell it whom else we know or who reads our newsletter.
        owners = _persons_by_address([r.email for r in rows if r.email], member_of=organisation)
        person_of: dict[int, int] = {}
        for row in rows:
            current = numbered.get(row.member_id) if row.member_id else None
            pid = current.person_id if current is not None else owners.get(row.email)
            if pid is None:
                summary.unknown.append(row.where)
            else:
                person_of[row.where] = pid
        subscriptions: dict[int, Subscription] = {}
        for chunk in _chunks(sorted(set(person_of.values())), LOOKUP_CHUNK):
            subscriptions.update(
                (s.person_id, s) for s in
                Subscription.objects.filter(person_id__in=chunk).select_related("person")
            )
        persons = Person.objects.in_bulk(set(person_of.values()) - set(subscriptions))
        done: set[int] = set()
        for row in rows:
            pid = person_of.get(row.where)
            if pid is None:
                continue
            subscription = subscriptions.get(pid)
            if subscription is None:
                # Remembered, so that the membership does not subscribe them later.
                newsletter_optout_record(person=persons[pid], channel=channel, actor=actor,
                                         now=now)
                summary.not_subscribed += 1
            elif subscription.status != SubscriptionStatus.ACTIVE or pid in done:
                if subscription.subscribed_at <= row.opted_out_at:
                    newsletter_optout_record(person=subscription.person, channel=channel,
                                             actor=actor, now=now)
                summary.already_unsubscribed += 1
            elif subscription.subscribed_at > row.opted_out_at:
                summary.stale.append(row.where)
            else:
                newsletter_unsubscribe(subscription=subscription, channel=channel, actor=actor,
                                       now=now)
                done.add(pid)
                summary.unsubscribed += 1
        audit_log(actor=actor, action="members.optouts_applied", data=summary.as_dict(), now=now)
    return summary


def feed_user_ensure(*, organisation: Organisation | str, username: str, actor: str) -> Any:
    """The staff user an organisation's integration acts as, holding only the
    permission of its own feed (ADR 0023); created with no usable password (it
    cannot sign in to the back office, only call the API with a token)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    organisation = str(Organisation(organisation))
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_active": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        permission = Permission.objects.get(content_type__app_label="core",
                                            codename=f"feed_{organisation}")
        user.user_permissions.add(permission)
        audit_log(actor=actor, action="members.feed_user_ensured",
                  data={"user": user.pk, "organisation": organisation, "created": created})
    return user
