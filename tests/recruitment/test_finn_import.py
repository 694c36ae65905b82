"""The Finn.no import refuses bad files with a row/column error, never a traceback (issue 7, 3.6).

Each file runs through the real command (``personvern recruitment import-finn``)
on SQLite and PostgreSQL. A bad file exits 1, names the file, the row and the
column and what is wrong, and writes nothing: the good row before the bad one
is not imported either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.cli import main
from personvern.core.models import AuditEntry, Person
from personvern.recruitment.finn import FIELD_LIMIT
from personvern.recruitment.models import Application

pytestmark = pytest.mark.django_db

HEADER = "finn_id,email,given_name,family_name,phone,received_at,letter\n"
GOOD = "F-1,anne@example.no,Anne,Aas,,2025-01-07T10:00:00+01:00,Hei\n"


def _import(
    tmp_path: Path, content: str | bytes, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str]:
    file = tmp_path / "finn.csv"
    if isinstance(content, str):
        file.write_text(content, encoding="utf-8", newline="")
    else:
        file.write_bytes(content)
    code = main(["recruitment", "import-finn", str(file), *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, err.replace(str(file), "finn.csv")


def _assert_nothing_stored() -> None:
    assert not Application.objects.exists()
    assert not Person.objects.exists()
    assert not AuditEntry.objects.exists()


def _row(
    *, finn_id: str = "F-2", email: str = "bo@example.no", given_name: str = "Bo",
    phone: str = "", received_at: str = "2025-01-08T10:00:00+01:00", letter: str = "Hallo",
) -> str:
    return f"{finn_id},{email},{given_name},Berg,{phone},{received_at},{letter}\n"


@pytest.mark.req("R25")
@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        (_row(received_at="2026-13-45T10:00:00"), "received_at",
         "'2026-13-45T10:00:00' is not a valid date and time: month must be in 1..12."),
        (_row(received_at="2026-01-07T10:00:00+25:00"), "received_at",
         "'2026-01-07T10:00:00+25:00' has a UTC offset out of range"),
        (_row(received_at="0001-01-01T00:30:00+05:00"), "received_at",
         "'0001-01-01T00:30:00+05:00' is out of range."),
        (_row(received_at="2099-01-01T10:00:00+01:00"), "received_at",
         "'2099-01-01T10:00:00+01:00' lies in the future"),
        (_row(given_name="B\x00o"), "given_name", "contains a NUL character."),
        (_row(finn_id="F-\x002"), "finn_id", "contains a NUL character."),
        (_row(email="bo\x00@example.no"), "email", "contains a NUL character."),
        (_row(letter="Hal\x00lo"), "letter", "contains a NUL character."),
        (_row(given_name="B" * 151), "given_name", "151 characters, more than the 150 it may"),
        (_row(finn_id="F" * 101), "finn_id", "101 characters, more than the 100 it may"),
        (_row(phone="9" * 41), "phone", "41 characters, more than the 40 it may"),
        (_row(email="b" * 250 + "@example.no"), "email", "261 characters, more than the 254"),
        (_row(email="not-an-address"), "email", "«not-an-address»"),
        (_row(finn_id="F-1"), "finn_id", "'F-1' appears twice."),
        (_row(finn_id=""), "finn_id", "empty."),
        (_row().rstrip("\n") + ",extra\n", None,
         "more fields than the header has columns (7)."),
        (_row(letter="x" * (FIELD_LIMIT + 1)), None,
         f"a field is longer than {FIELD_LIMIT} characters"),
    ],
    ids=[
        "impossible-date", "offset-out-of-range", "year-1-overflow", "future", "nul-name",
        "nul-finn-id", "nul-email", "nul-letter", "long-name", "long-finn-id", "long-phone",
        "long-email", "bad-email", "duplicate", "empty-finn-id", "extra-field", "field-limit",
    ],
)
def test_a_bad_cell_is_a_row_and_column_error_and_nothing_is_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    row: str,
    column: str | None,
    problem: str,
) -> None:
    code, err = _import(tmp_path, HEADER + GOOD + row, capsys)

    assert code == 1
    place = f"finn.csv, row 3, column {column}" if column else "finn.csv, row 3"
    assert f"{place}: {problem}" in err, err
    assert "Nothing was imported." in err
    _assert_nothing_stored()


@pytest.mark.req("R25")
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ((HEADER + GOOD + _row(given_name="Bjørn")).encode("latin-1"),
         "finn.csv, line 3: not UTF-8 text (byte 0xf8)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
         "finn.csv, line 1: not UTF-8 text (byte 0x89)"),
        (b"\x00" * 64, "finn.csv: missing column(s) finn_id, email, received_at"),
        (b"", "finn.csv: missing column(s) finn_id, email, received_at"),
    ],
    ids=["latin-1", "binary", "nul-bytes", "empty"],
)
def test_a_file_that_is_not_a_utf8_csv_export_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    code, err = _import(tmp_path, content, capsys)

    assert code == 1
    assert expected in err, err
    _assert_nothing_stored()


@pytest.mark.req("R25")
def test_every_problem_of_the_file_is_listed_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = HEADER + GOOD + _row(given_name="B\x00o", received_at="2026-13-45T10:00:00") + (
        _row(finn_id="F-3", phone="9" * 41)
    )

    code, err = _import(tmp_path, content, capsys)

    assert code == 1
    assert err.splitlines() == [
        "finn.csv, row 3, column given_name: contains a NUL character.",
        "finn.csv, row 3, column received_at: '2026-13-45T10:00:00' is not a valid date and "
        "time: month must be in 1..12.",
        "finn.csv, row 4, column phone: 41 characters, more than the 40 it may hold.",
        "Nothing was imported.",
    ]
    _assert_nothing_stored()


@pytest.mark.req("R25")
def test_the_future_is_measured_from_as_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = HEADER + GOOD + _row(received_at="2025-06-01T10:00:00+02:00")

    code, err = _import(tmp_path, content, capsys, "--as-of", "2025-03-01")

    assert code == 1
    assert (
        "finn.csv, row 3, column received_at: '2025-06-01T10:00:00+02:00' lies in the future"
    ) in err
    _assert_nothing_stored()
    code, _err = _import(tmp_path, content, capsys, "--as-of", "2025-07-01")
    assert code == 0
    assert Application.objects.count() == 2
    code, err = _import(tmp_path, content, capsys, "--as-of", "someday")
    assert code == 2
    assert "--as-of" in err


@pytest.mark.req("R25")
def test_an_unknown_or_impossible_position_id_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for position in ("999", str(2**64), "-1"):
        code, err = _import(tmp_path, HEADER + GOOD, capsys, "--position", position)
        assert code == 2
        assert f"No position has the id {position}." in err
    _assert_nothing_stored()
