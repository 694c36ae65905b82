"""Import of applications exported from Finn.no as CSV (R25); all or nothing.

The file comes from outside and is read as untrusted input: every row and every
cell is checked before anything is written, and each problem is reported with
the file, the row (row 1 is the header) and the column, and what is wrong. Only
a file without any problem is written, in one transaction, so a bad file leaves
the database as it was on SQLite and PostgreSQL alike. Cells are held to the
length of the column they end up in and may not contain a NUL character
(PostgreSQL refuses it in text; SQLite would store it and silently keep
over-long values).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from personvern.core.models import EmailIdentity, Person
from personvern.core.services import normalise_email
from personvern.recruitment.models import Application, ApplicationSource, Position
from personvern.recruitment.services import application_receive

#: Columns of a Finn.no applicant export that the import reads.
FINN_COLUMNS = ("finn_id", "email", "given_name", "family_name", "phone", "received_at", "letter")
REQUIRED_COLUMNS = ("finn_id", "email", "received_at")


def _max_length(model: type[Application] | type[Person] | type[EmailIdentity], field: str) -> int:
    column = model._meta.get_field(field)
    assert isinstance(column, models.CharField) and column.max_length is not None
    return column.max_length


#: The most characters each column may hold: the length of the database column
#: it is stored in. ``letter`` is a text column; the CSV reader's own field limit
#: (:data:`FIELD_LIMIT`) bounds it.
MAX_LENGTH = {
    "finn_id": _max_length(Application, "external_ref"),
    "email": _max_length(EmailIdentity, "address"),
    "given_name": _max_length(Person, "given_name"),
    "family_name": _max_length(Person, "family_name"),
    "phone": _max_length(Person, "phone"),
    "received_at": 64,
}
#: The longest field the CSV reader accepts (Python's default, 128 KiB).
FIELD_LIMIT = csv.field_size_limit()
#: Finn ids looked up per query (SQLite limits the parameters of one statement).
LOOKUP_BATCH = 500
#: At most this many problems are listed; a file with more is clearly not an export.
MAX_REPORTED = 25


@dataclass(frozen=True)
class ImportResult:
    created: int
    skipped: int


@dataclass(frozen=True)
class FinnRow:
    """One checked row of the export, ready to be written."""

    number: int
    finn_id: str
    email: str
    given_name: str
    family_name: str
    phone: str
    letter: str
    received_at: datetime


def decode_finn_export(data: bytes, *, source_name: str = "<input>") -> str:
    """The export's text; a file that is not UTF-8 (Latin-1, binary) names its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            f"{source_name}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "export the file from Finn.no as CSV in UTF-8."
        ) from exc


def _parse_received(raw: str) -> datetime:
    """``received_at`` as an aware datetime; ValueError says what is wrong."""
    try:
        moment = parse_datetime(raw)
    except ValueError as exc:  # well-formed but impossible: month 13, offset +25:00
        if "offset" in str(exc):
            raise ValueError(f"{raw!r} has a UTC offset out of range (at most ±23:59).") from exc
        raise ValueError(f"{raw!r} is not a valid date and time: {exc}.") from exc
    if moment is None:
        raise ValueError(f"{raw!r} is not a date and time (YYYY-MM-DDTHH:MM:SS±HH:MM).")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        moment.astimezone(UTC)  # how the database stores it
    except OverflowError as exc:
        raise ValueError(f"{raw!r} is out of range.") from exc
    return moment


class _RowChecker:
    """Checks the cells of one row, collecting each problem with its place."""

    def __init__(self, where: str, row: dict[str | None, str | list[str] | None]) -> None:
        self.where = where
        self.row = row
        self.problems: list[str] = []

    def problem(self, column: str, text: str) -> None:
        self.problems.append(f"{self.where}, column {column}: {text}")

    def cell(self, column: str, *, required: bool = False, strip: bool = True) -> str:
        value = self.row.get(column)
        text = value if isinstance(value, str) else ""
        if strip:
            text = text.strip()
        if "\x00" in text:
            self.problem(column, "contains a NUL character.")
            return ""
        limit = MAX_LENGTH.get(column)
        if limit is not None and len(text) > limit:
            self.problem(column, f"{len(text)} characters, more than the {limit} it may hold.")
            return ""
        if required and not text:
            self.problem(column, "empty.")
        return text


def _read_rows(
    text: str, *, position: Position | None, source_name: str, now: datetime
) -> list[FinnRow]:
    """Every row of the export, checked; ValidationError lists the problems."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    problems: list[str] = []
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise ValidationError(f"{source_name}, row 1: {_csv_problem(exc)}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValidationError(f"{source_name}: missing column(s) {', '.join(missing)}.")
    rows: list[FinnRow] = []
    seen: set[str] = set()
    records = iter(reader)
    number = 1  # row 1 is the header
    while len(problems) < MAX_REPORTED:
        number += 1
        where = f"{source_name}, row {number}"
        try:
            row = next(records)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot go on reliably after this; what came before is reported.
            problems.append(f"{where}: {_csv_problem(exc)}")
            break
        check = _RowChecker(where, row)
        if row.get(None):
            check.problems.append(
                f"{where}: more fields than the header has columns ({len(header)})."
            )
        finn_id = check.cell("finn_id", required=True)
        if finn_id in seen:
            check.problem("finn_id", f"{finn_id!r} appears twice.")
        seen.add(finn_id)
        email = check.cell("email", required=True)
        if email:
            try:
                email = normalise_email(email)
            except ValidationError as exc:
                check.problem("email", " ".join(exc.messages))
        given_name = check.cell("given_name")
        family_name = check.cell("family_name")
        phone = check.cell("phone")
        letter = check.cell("letter", strip=False)
        raw = check.cell("received_at", required=True)
        received = now
        if raw:
            try:
                received = _parse_received(raw)
            except ValueError as exc:
                check.problem("received_at", str(exc))
            else:
                if received > now:
                    check.problem(
                        "received_at", f"{raw!r} lies in the future (now is {now.isoformat()})."
                    )
                closed = position.recruitment_closed_at if position else None
                if closed is not None and received > closed:
                    check.problem(
                        "received_at",
                        f"{raw!r} is after the recruitment for this position closed "
                        f"({closed.isoformat()}).",
                    )
        if check.problems:
            problems.extend(check.problems)
            continue
        rows.append(
            FinnRow(
                number=number, finn_id=finn_id, email=email, given_name=given_name,
                family_name=family_name, phone=phone, letter=letter, received_at=received,
            )
        )
    if problems:
        if len(problems) >= MAX_REPORTED:
            problems = problems[:MAX_REPORTED]
            problems.append(f"{source_name}: stopped after {MAX_REPORTED} problems.")
        raise ValidationError(problems)
    return rows


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a field is longer than {FIELD_LIMIT} characters, the most a CSV field may hold."
    return f"not valid CSV ({exc})."


def applications_import_finn(
    *,
    text: str,
    position: Position | None,
    actor: str,
    source_name: str = "<input>",
    now: datetime | None = None,
) -> ImportResult:
    """Import applications exported from Finn.no as CSV (R25); all or nothing.

    Every row is checked before anything is written; a bad file raises a
    ValidationError with one message per problem, each naming the file, the row
    number and the column. ``received_at`` may not lie after ``now``. Rows whose
    ``finn_id`` was imported before are skipped, so the import can be re-run.
    """
    now = now or timezone.now()
    rows = _read_rows(text, position=position, source_name=source_name, now=now)
    ids = [r.finn_id for r in rows]
    existing: set[str] = set()
    for start in range(0, len(ids), LOOKUP_BATCH):
        existing.update(
            Application.objects.filter(
                source=ApplicationSource.FINN, external_ref__in=ids[start : start + LOOKUP_BATCH]
            ).values_list("external_ref", flat=True)
        )
    created = 0
    with transaction.atomic():
        for row in rows:
            if row.finn_id in existing:
                continue
            try:
                application_receive(
                    email=row.email,
                    given_name=row.given_name,
                    family_name=row.family_name,
                    phone=row.phone,
                    letter=row.letter,
                    source=ApplicationSource.FINN,
                    external_ref=row.finn_id,
                    position=position,
                    received_at=row.received_at,
                    actor=actor,
                )
            except ValidationError as exc:
                raise ValidationError(
                    f"{source_name}, row {row.number}: {'; '.join(exc.messages)}"
                ) from exc
            created += 1
    return ImportResult(created=created, skipped=len(rows) - created)
