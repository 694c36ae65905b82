"""`personvern recruitment import-finn` (R25)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from personvern.recruitment import cli, services
from personvern.recruitment.models import Application

pytestmark = pytest.mark.django_db


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.mark.req("R25")
def test_import_finn_command_imports_applications_for_a_position(tmp_path: Path) -> None:
    position = services.position_create(title="Kursrådgiver", actor="hr")
    file = tmp_path / "finn.csv"
    file.write_text(
        "finn_id,email,given_name,received_at\nF-9,kari@example.no,Kari,2025-01-07T10:00:00+01:00\n"
    )
    assert _run("recruitment", "import-finn", str(file), "--position", str(position.pk)) == 0
    application = Application.objects.get()
    assert (application.position, application.source, application.external_ref) == (
        position,
        "finn",
        "F-9",
    )


def test_import_finn_command_reports_a_bad_file_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "finn.csv"
    file.write_text("email\nkari@example.no\n")
    assert _run("recruitment", "import-finn", str(file)) == 1
    assert "missing column(s) finn_id, received_at" in capsys.readouterr().err
    assert not Application.objects.exists()
