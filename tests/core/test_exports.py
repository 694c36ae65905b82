"""One neutraliser for every CSV and XLSX the system writes (formula injection).

The rule is tested on its own, then through each export: the participant list
(CSV and XLSX), the hotel list, the access bundle's CSV files and the record of
processing activities (CSV and XLSX).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from personvern.core.exports import formula_like, spreadsheet_cell, xlsx_cell
from personvern.core.models import Person
from personvern.courses import services as courses
from personvern.courses.models import CourseKind, Registration
from personvern.policy import load_policy
from personvern.policy.ropa import ropa_csv, ropa_xlsx
from personvern.rights.engine import access_bundle
from tests.courses.factories import make_course, register
from tests.policy.helpers import DEFAULT_TEXT, edit, write

#: Text a spreadsheet program could run, each hidden a different way.
MALICIOUS = [
    "=HYPERLINK(\"https://evil.example\",\"x\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    "\t \r=1+1",
    "\u200b=1+1",  # a zero-width space (a format character) first
    "\x01=1+1",
    "\uff1d1+1",  # the full-width equals sign
]
HARMLESS = ["Kari", "", "Advokatfirma Øst AS", "a=b", "1-2", "kari@example.no", "   ", 42, None]


@pytest.mark.parametrize("value", MALICIOUS)
def test_formula_like_text_gets_a_leading_apostrophe(value: str) -> None:
    assert formula_like(value)
    assert spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_values_are_left_alone(value: object) -> None:
    assert spreadsheet_cell(value) == value


def test_xlsx_cells_lose_the_control_characters_a_workbook_cannot_hold() -> None:
    assert xlsx_cell("\x01=1+1") == "'\ufffd=1+1"
    assert xlsx_cell("Kari\x00") == "Kari\ufffd"


def _csv(content: bytes | str) -> list[list[str]]:
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    return list(csv.reader(io.StringIO(text)))


def _xlsx(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content))
    return [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def _assert_neutralised(cells: list[object], value: str) -> None:
    """``value`` is among the cells only with its apostrophe (and never as a formula).

    An XLSX file is XML, which reads a carriage return as a line feed.
    """
    cells = [c.replace("\r", "\n") if isinstance(c, str) else c for c in cells]
    value = value.replace("\r", "\n")
    assert "'" + value in cells, cells
    assert value not in cells


@pytest.mark.django_db
@pytest.mark.req("R13")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("value", ["\t=1+1", "\r=HYPERLINK(1)", " @SUM(A1)", "=1+1"])
def test_participant_list(fmt: str, value: str) -> None:
    course = make_course()
    registration = register(course, given_name="Kari", family_name="Nordmann")
    # The services strip what they store; an export must also hold for what came in
    # another way (an import, an older version, the database itself).
    Registration.objects.filter(pk=registration.pk).update(employer=value)

    content = courses.participant_list_export(course=course, fmt=fmt, actor="test")

    rows = _csv(content) if fmt == "csv" else _xlsx(content)
    _assert_neutralised(rows[1], value)


@pytest.mark.django_db
@pytest.mark.req("R11")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hotel_list(fmt: str) -> None:
    from datetime import date

    course = make_course(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2)
    registration = register(
        course, overnight_stay=True, arrival_date=date(2025, 4, 9),
        departure_date=date(2025, 4, 11),
    )
    Person.objects.filter(pk=registration.person_id).update(
        given_name="\r=1+1", family_name="\u200b@SUM(A1)"
    )

    content, _transfer = courses.hotel_list_export(course=course, fmt=fmt, actor="test")

    rows = _csv(content) if fmt == "csv" else _xlsx(content)
    _assert_neutralised(rows[1], "\r=1+1")
    _assert_neutralised(rows[1], "\u200b@SUM(A1)")


@pytest.mark.django_db
@pytest.mark.req("R33")
def test_access_bundle_csv() -> None:
    course = make_course()
    registration = register(course)
    Registration.objects.filter(pk=registration.pk).update(
        employer=" =1+1", invoice_reference="\u200b=2+2"
    )
    person = Person.objects.get(pk=registration.person_id)

    bundle = zipfile.ZipFile(io.BytesIO(access_bundle(person, lang="en")))

    rows = _csv(bundle.read("courses.Registration.csv"))
    _assert_neutralised(rows[1], " =1+1")
    _assert_neutralised(rows[1], "\u200b=2+2")


@pytest.mark.req("R6")
def test_record_of_processing_activities(tmp_path: Path) -> None:
    text = edit(
        DEFAULT_TEXT,
        'title.en = "Course and event registration and participation"',
        'title.en = "=HYPERLINK(\\"https://evil.example\\")"',
    )
    text = edit(text, 'name = "FINN.no AS"', 'name = " @SUM(A1)"')
    policy = load_policy(write(tmp_path, text))

    csv_cells = [cell for row in _csv(ropa_csv(policy, "en")) for cell in row]
    _assert_neutralised(csv_cells, '=HYPERLINK("https://evil.example")')
    xlsx_cells = [cell for row in _xlsx(ropa_xlsx(policy, "en")) for cell in row]
    _assert_neutralised(xlsx_cells, '=HYPERLINK("https://evil.example")')
    _assert_neutralised(xlsx_cells, " @SUM(A1)")
