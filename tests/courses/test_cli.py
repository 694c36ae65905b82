"""`personvern courses …` (R11, R13)."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import date

import pytest

from personvern.courses import cli
from personvern.courses.models import HotelTransfer

from .factories import make_course, register


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="personvern")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.mark.req("R13")
def test_participants_command_writes_the_list(db, tmp_path, capsys):
    course = make_course()
    register(course, given_name="Åse", family_name="Aas", employer="Firma AS",
             invoice_reference="hemmelig")
    out = tmp_path / "deltakere.csv"
    assert run("courses", "participants", course.slug, "--format", "csv", "--out", str(out)) == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows == [["Given name", "Family name", "Employer"], ["Åse", "Aas", "Firma AS"]]
    xlsx = tmp_path / "deltakere.xlsx"
    assert run("courses", "participants", course.slug, "--format", "xlsx", "--out",
               str(xlsx)) == 0
    assert xlsx.read_bytes()[:2] == b"PK"


@pytest.mark.req("R11")
def test_hotel_list_command_records_the_transfer(hotel_course, tmp_path):
    register(hotel_course, family_name="Gjest", overnight_stay=True,
             arrival_date=date(2025, 4, 9), departure_date=date(2025, 4, 11))
    register(hotel_course, family_name="Dagsgjest")
    out = tmp_path / "hotell.csv"
    assert run("courses", "hotel-list", hotel_course.slug, "--out", str(out)) == 0
    lines = out.read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "Gjest" in lines[1]
    transfer = HotelTransfer.objects.get()
    assert transfer.row_count == 1 and transfer.actor.startswith("cli:")


def test_unknown_course_and_no_hotel_are_clear_errors(physical_course, tmp_path, capsys):
    assert run("courses", "participants", "nope", "--out", str(tmp_path / "x.csv")) == 2
    assert "No course has the code 'nope'" in capsys.readouterr().err
    assert run("courses", "hotel-list", physical_course.slug, "--out",
               str(tmp_path / "h.csv")) == 1
    assert "offers no hotel stay" in capsys.readouterr().err
    assert not HotelTransfer.objects.exists()


def test_list_command_shows_seats(db, capsys):
    course = make_course(capacity=1)
    register(course)
    register(course)
    assert run("courses", "list") == 0
    output = capsys.readouterr().out
    assert course.slug in output and "1/1" in output
