"""Reading and checking the member organisations' feeds, before anything is written.

A feed is a list of rows, from a CSV file (``personvern members import|optouts``)
or a JSON body (the API). Every row is checked first; any problem is collected
with where it is (the file's row number, the header being row 1, or the list
index of the API body) and the column, and the whole feed is refused with all
of them. Only a feed without a single problem reaches the services, so nothing
is ever half-written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.models import Organisation
from personvern.core.services import normalise_email

#: The columns of a member file; ``member_to`` may be empty (a current member).
MEMBER_COLUMNS = ("member_id", "email", "given_name", "family_name", "member_from", "member_to")
MEMBER_REQUIRED = ("member_id", "email", "member_from")
#: The columns of an opt-out file; ``email`` may be empty when ``member_id`` is known here.
OPTOUT_COLUMNS = ("member_id", "email", "opted_out_at")

MEMBER_ID_MAX = 64
NAME_MAX = 150

COLUMN_MISSING = _("the column '%(column)s' is missing")
VALUE_NEEDED = _("a value is needed")
TOO_LONG = _("longer than %(max)s characters")
NOT_A_DATE = _("'%(value)s' is not a date (write YYYY-MM-DD)")
NOT_A_TIME = _("'%(value)s' is not a date or time (write YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
NOT_AN_EMAIL = _("'%(value)s' is not an e-mail address")
ENDS_BEFORE_START = _("the membership ends (%(to)s) before it starts (%(from)s)")
DUPLICATE_MEMBER = _("member number %(member_id)s is also in %(other)s")
DUPLICATE_EMAIL = _("the address is also in %(other)s, with another member number")
IN_THE_FUTURE = _("the opt-out is dated in the future")
NOT_UTF8 = _("the file is not UTF-8 text")
EMPTY_FILE = _("the file has no header row")
NOT_AN_ORGANISATION = _("'%(value)s' is not a member organisation")


#: ``Problem.where`` of a problem of the feed as a whole (not of one row).
WHOLE_FEED = -1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a feed: where (a row number or list index), which
    column or field, and what."""

    where: int
    field: str
    message: str


class FeedRefused(Exception):
    """The feed has problems; nothing of it was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the feed")
        self.problems = problems


@dataclass(frozen=True)
class MemberRow:
    """A checked row of a member feed (``email`` normalised)."""

    where: int
    member_id: str
    email: str
    given_name: str
    family_name: str
    member_from: date
    member_to: date | None


@dataclass(frozen=True)
class OptOutRow:
    """A checked row of an opt-out feed."""

    where: int
    member_id: str
    email: str
    opted_out_at: datetime


def organisation_of(value: str) -> Organisation:
    """The organisation named ``value`` (its id, e.g. ``advokatforeningen``)."""
    try:
        return Organisation(value)
    except ValueError as exc:
        raise ValidationError(NOT_AN_ORGANISATION, params={"value": value}) from exc


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


def _date(raw: Any) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    return date.fromisoformat(_text(raw))


def _moment(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime(raw.year, raw.month, raw.day)  # noqa: DTZ001 (made aware below)
    else:
        value = datetime.fromisoformat(_text(raw))
    if timezone.is_naive(value):
        # Dates and times without a zone are the organisations' local time.
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def read_csv(content: bytes | str, columns: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a CSV file as ``(row number, {column: text})``.

    The header is row 1; the separator is a comma or a semicolon (as spreadsheets
    in Norway write them); a byte-order mark is allowed. Raises
    :class:`FeedRefused` when the file is not UTF-8 or a column is missing.
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FeedRefused([Problem(0, "", str(NOT_UTF8))]) from exc
    content = content.lstrip("\ufeff")
    first = content.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise FeedRefused([Problem(1, "", str(EMPTY_FILE))])
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        raise FeedRefused(
            [Problem(1, c, str(COLUMN_MISSING % {"column": c})) for c in missing]
        )
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue  # blank lines, a trailing newline
        rows.append((number, {n: (values[i] if i < len(values) else "") for i, n in
                              enumerate(names)}))
    return rows


def _where(where: int, row_word: str) -> str:
    return f"{row_word} {where}"


def check_members(
    rows: Iterable[tuple[int, Mapping[str, Any]]], *, row_word: str = "row"
) -> list[MemberRow]:
    """Check every row of a member feed; raises :class:`FeedRefused` with all problems.

    ``rows`` are ``(where, {field: value})``; ``row_word`` names ``where`` in the
    messages about duplicates ("row" for a file, "item" for the API's list).
    """
    problems: list[Problem] = []
    checked: list[MemberRow] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, tuple[int, str]] = {}
    for where, raw in rows:
        bad = len(problems)
        member_id = _text(raw.get("member_id"))
        if not member_id:
            problems.append(Problem(where, "member_id", str(VALUE_NEEDED)))
        elif len(member_id) > MEMBER_ID_MAX:
            problems.append(Problem(where, "member_id", str(TOO_LONG % {"max": MEMBER_ID_MAX})))
        elif member_id in seen_ids:
            problems.append(Problem(where, "member_id", str(DUPLICATE_MEMBER % {
                "member_id": member_id, "other": _where(seen_ids[member_id], row_word)})))
        else:
            seen_ids[member_id] = where
        email = _text(raw.get("email"))
        if not email:
            problems.append(Problem(where, "email", str(VALUE_NEEDED)))
        else:
            try:
                email = normalise_email(email)
            except ValidationError:
                problems.append(Problem(where, "email", str(NOT_AN_EMAIL % {"value": email})))
            else:
                other = seen_emails.get(email)
                if other is not None and other[1] != member_id:
                    problems.append(Problem(where, "email", str(DUPLICATE_EMAIL % {
                        "other": _where(other[0], row_word)})))
                seen_emails.setdefault(email, (where, member_id))
        names = {}
        for column in ("given_name", "family_name"):
            names[column] = _text(raw.get(column))
            if len(names[column]) > NAME_MAX:
                problems.append(Problem(where, column, str(TOO_LONG % {"max": NAME_MAX})))
        dates: dict[str, date | None] = {}
        for column in ("member_from", "member_to"):
            value = raw.get(column)
            if value is None or _text(value) == "":
                dates[column] = None
                if column == "member_from":
                    problems.append(Problem(where, column, str(VALUE_NEEDED)))
                continue
            try:
                dates[column] = _date(value)
            except (TypeError, ValueError):
                problems.append(Problem(where, column, str(NOT_A_DATE % {"value": _text(value)})))
        start, end = dates.get("member_from"), dates.get("member_to")
        if start is not None and end is not None and end < start:
            problems.append(Problem(where, "member_to", str(ENDS_BEFORE_START % {
                "to": end.isoformat(), "from": start.isoformat()})))
        if len(problems) == bad and start is not None:
            checked.append(MemberRow(
                where=where, member_id=member_id, email=email, member_from=start,
                member_to=end, **names,
            ))
    if problems:
        raise FeedRefused(problems)
    return checked


def check_optouts(
    rows: Iterable[tuple[int, Mapping[str, Any]]], *, now: datetime | None = None
) -> list[OptOutRow]:
    """Check every row of an opt-out feed; raises :class:`FeedRefused` with all problems.

    A row names the member by ``member_id`` or ``email`` (at least one);
    ``opted_out_at`` is when the member opted out on the organisation's page
    (empty: now), never in the future.
    """
    now = now or timezone.now()
    problems: list[Problem] = []
    checked: list[OptOutRow] = []
    for where, raw in rows:
        bad = len(problems)
        member_id = _text(raw.get("member_id"))
        if len(member_id) > MEMBER_ID_MAX:
            problems.append(Problem(where, "member_id", str(TOO_LONG % {"max": MEMBER_ID_MAX})))
        email = _text(raw.get("email"))
        if email:
            try:
                email = normalise_email(email)
            except ValidationError:
                problems.append(Problem(where, "email", str(NOT_AN_EMAIL % {"value": email})))
        elif not member_id:
            problems.append(Problem(where, "member_id", str(VALUE_NEEDED)))
        at = now
        value = raw.get("opted_out_at")
        if value is not None and _text(value) != "":
            try:
                at = _moment(value)
            except (TypeError, ValueError):
                problems.append(
                    Problem(where, "opted_out_at", str(NOT_A_TIME % {"value": _text(value)}))
                )
            else:
                if at > now:
                    problems.append(Problem(where, "opted_out_at", str(IN_THE_FUTURE)))
        if len(problems) == bad:
            checked.append(OptOutRow(where=where, member_id=member_id, email=email,
                                     opted_out_at=at))
    if problems:
        raise FeedRefused(problems)
    return checked
