"""``personvern rights …`` end to end through the console entry point."""

from __future__ import annotations

import json
import zipfile

import pytest

from personvern.cli import main
from personvern.rights.models import Request, RequestStatus, RequestType

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.mark.req("R40")
@pytest.mark.req("R32")
def test_request_list_verify_fulfil_export(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = main(
        [
            "rights",
            "request",
            "access",
            "--email",
            "cli@example.org",
            "--received",
            "2025-03-05",
            "--channel",
            "post",
            "--as-of",
            "2025-03-20",
        ]
    )
    assert code == 0
    public_id = capsys.readouterr().out.strip()
    request = Request.objects.get(public_id=public_id)
    assert (request.due_strict.isoformat(), request.due_legal.isoformat()) == (
        "2025-04-05",
        "2025-04-07",
    )

    assert main(["rights", "list", "--overdue", "--format", "json", "--as-of", "2025-04-08"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [public_id] and rows[0]["days_left"] == -1
    assert main(["rights", "list", "--overdue", "--format", "json", "--as-of", "2025-04-07"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["rights", "list"]) == 0
    assert public_id[:8] in capsys.readouterr().out

    out = tmp_path / "bundle.zip"
    assert main(["rights", "export", public_id, "--out", str(out)]) == 2  # not fulfilled yet
    assert main(["rights", "fulfil", public_id]) == 2  # not verified
    assert "Verify" in capsys.readouterr().err

    assert (
        main(["rights", "verify", public_id, "--staff-note", "Letter signed, address known"]) == 0
    )
    assert main(["rights", "fulfil", public_id, "--lang", "en"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["lang"] == "en"
    assert main(["rights", "export", public_id, "--out", str(out)]) == 0
    assert "report.html" in zipfile.ZipFile(out).namelist()
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED


@pytest.mark.req("R40")
def test_bad_input_is_named(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["rights", "request", "access", "--email", "not-an-address"]) == 2
    assert "email" in capsys.readouterr().err.lower()
    assert main(["rights", "fulfil", "not-a-uuid"]) == 2
    assert main(["rights", "fulfil", "00000000-0000-0000-0000-000000000000"]) == 2
    with pytest.raises(SystemExit):
        main(["rights", "request", "access", "--email", "a@example.org", "--received", "31.03"])
    assert not Request.objects.exists()


@pytest.mark.req("R32")
@pytest.mark.req("R40")
def test_classify_command(capsys) -> None:  # type: ignore[no-untyped-def]
    assert (
        main(
            [
                "rights",
                "request",
                "unclassified",
                "--email",
                "letter@example.org",
                "--received",
                "2025-03-05",
                "--as-of",
                "2025-03-06",
            ]
        )
        == 0
    )
    public_id = capsys.readouterr().out.strip()
    assert main(["rights", "list", "--type", "unclassified", "--format", "json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [public_id]
    assert main(["rights", "fulfil", public_id]) == 2
    assert "type" in capsys.readouterr().err

    # The target type must be a right: argparse refuses "unclassified".
    with pytest.raises(SystemExit):
        main(["rights", "classify", public_id, "unclassified"])
    assert main(["rights", "classify", public_id, "portability", "--as-of", "2025-03-10"]) == 0
    err = capsys.readouterr().err
    assert "portability" in err and "2025-04-07" in err
    request = Request.objects.get(public_id=public_id)
    assert request.type == RequestType.PORTABILITY
    assert request.due_legal.isoformat() == "2025-04-07"
    # A second classification is refused by name.
    assert main(["rights", "classify", public_id, "erasure"]) == 2
    assert "already classified" in capsys.readouterr().err
    assert main(["rights", "classify", "not-a-uuid", "erasure"]) == 2
    assert main(["rights", "list", "--type", "unclassified", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.req("R40")
def test_received_today_is_accepted_in_the_morning(capsys) -> None:  # type: ignore[no-untyped-def]
    # Defect 3.10 of issue 7: a day without a time meant noon, so today was "in the
    # future" until 12:00 Oslo time. 08:00 in Oslo on 20 March is 07:00 UTC.
    as_of = ["--as-of", "2025-03-20T08:00:00+01:00"]
    code = main(["rights", "request", "access", "--email", "morgen@example.org",
                 "--received", "2025-03-20", *as_of])

    assert code == 0, capsys.readouterr().err
    request = Request.objects.get(public_id=capsys.readouterr().out.strip())
    assert request.received_at.isoformat() == "2025-03-20T07:00:00+00:00"
    assert request.due_strict.isoformat() == "2025-04-20"
    # An earlier day keeps its noon; tomorrow is still refused.
    assert main(["rights", "request", "access", "--email", "igaar@example.org",
                 "--received", "2025-03-19", *as_of]) == 0
    assert Request.objects.get(person__emails__address="igaar@example.org").received_at.isoformat(
    ) == "2025-03-19T11:00:00+00:00"
    assert main(["rights", "request", "access", "--email", "imorgen@example.org",
                 "--received", "2025-03-21", *as_of]) == 2
    assert "future" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["rights", "request", "access", "--email", "x@example.org",
              "--received", "2025-13-45"])
    assert exited.value.code == 2
    assert "'2025-13-45' is not a date" in capsys.readouterr().err
