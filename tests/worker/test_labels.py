"""Outgoing mail kinds and job names are shown in words in the back office, nb and en.

The source is scanned when the test runs (every ``kind=`` handed to the outbox,
every ``Job(name=...)``), and the job registry is read, so a kind or a job added
later without a label in ``personvern/worker/labels.py`` fails here, naming it
and the file that uses it.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation

from personvern.core.roles import DPO
from personvern.courses.mails import MAILS
from personvern.worker import registry
from personvern.worker.labels import JOBS, MAIL_KINDS, job_label, mail_kind_label
from personvern.worker.models import JobRun, JobRunState, MailState, OutgoingMail
from tests.test_roles import _client

SRC = Path(__file__).resolve().parents[2] / "src" / "personvern"
#: The outbox's functions that take a ``kind`` (and the model itself).
QUEUERS = {"queue_mail", "queue_mail_each", "queue_message", "queue_built", "record_refused",
           "OutgoingMail"}
#: The outbox passes the caller's kind along; it writes none of its own.
PLUMBING = {"worker/outbox.py"}
#: Files that hand the outbox a kind taken from a table: the table's kinds.
TABLES = {"courses/mails.py": [kind for _template, _subject, kind, _cal in MAILS.values()]}


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "create":  # OutgoingMail.objects.create
        return "OutgoingMail" if "OutgoingMail" in ast.unparse(func) else "create"
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _scan() -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(mail kind → file, job name → file, kinds the scan could not read, with their file)."""
    kinds: dict[str, str] = {}
    jobs: dict[str, str] = {}
    unread: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        where = str(path.relative_to(SRC))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {  # MAIL_KIND = "rights-reminder" at module level
            node.targets[0].id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _called(node)
            for keyword in node.keywords:
                value = keyword.value
                if isinstance(value, ast.Constant):
                    code = value.value
                elif isinstance(value, ast.Name) and value.id in constants:
                    code = constants[value.id]
                else:
                    code = None
                if called in QUEUERS and keyword.arg == "kind" and where not in PLUMBING:
                    if isinstance(code, str):
                        kinds.setdefault(code, where)
                    elif where in TABLES:
                        for kind in TABLES[where]:
                            kinds.setdefault(kind, where)
                    else:
                        unread.append(f"{ast.unparse(value)} ({where}:{node.lineno})")
                if called == "Job" and keyword.arg == "name" and isinstance(code, str):
                    jobs.setdefault(code, where)
    return kinds, jobs, unread


def test_the_scan_finds_the_kinds_and_jobs_it_should() -> None:
    kinds, jobs, _unread = _scan()
    assert {"competition-feedback", "hotel-list", "newsletter-copy"} <= set(kinds)
    assert "rights-reminder" in kinds  # through a module constant (MAIL_KIND)
    assert "registration-confirmed" in kinds  # from the course mails' table
    assert {"retention-run", "audit-seal", "mail-sweep"} <= set(jobs)


def test_every_mail_kind_queued_in_src_has_a_label() -> None:
    kinds, _jobs, unread = _scan()
    assert unread == [], (
        "kinds handed to the outbox that the scan cannot read; write them out, use a "
        "module constant or declare the table in TABLES: " + ", ".join(unread)
    )
    unlabelled = {kind: where for kind, where in kinds.items() if kind not in MAIL_KINDS}
    assert unlabelled == {}, (
        "mail kinds without a label in personvern/worker/labels.py MAIL_KINDS: "
        + ", ".join(f"{kind} ({where})" for kind, where in sorted(unlabelled.items()))
    )


def test_every_job_has_a_label() -> None:
    _kinds, jobs, _unread = _scan()
    declared = {job.name: "registry" for job in registry.jobs()}
    unlabelled = sorted(name for name in {**jobs, **declared} if name not in JOBS)
    assert unlabelled == [], (
        "jobs without a label in personvern/worker/labels.py JOBS: " + ", ".join(unlabelled)
    )


def test_labels_read_in_both_languages_and_an_unknown_code_is_shown_as_itself() -> None:
    with translation.override("nb"):
        assert mail_kind_label("registration-confirmed") == "Kurspåmelding bekreftet"
        assert job_label("retention-run") == "Sletting etter oppbevaringstid"
    with translation.override("en"):
        assert mail_kind_label("registration-confirmed") == "Course registration confirmed"
        assert job_label("retention-run") == "Retention run"
    assert mail_kind_label("something-new") == "something-new"
    assert job_label("something-new") == "something-new"
    labels = {**MAIL_KINDS, **JOBS}
    with translation.override("en"):
        english = {code: str(label) for code, label in labels.items()}
    with translation.override("nb"):  # every label has its Norwegian
        untranslated = [code for code, label in labels.items() if str(label) == english[code]]
    assert untranslated == []


@pytest.mark.django_db
def test_the_outbox_and_the_job_runs_show_kinds_and_jobs_in_words() -> None:
    now = timezone.now()
    OutgoingMail.objects.create(
        kind="registration-confirmed", recipients="kari@example.no", subject="Bekreftet",
        state=MailState.FAILED, queued_at=now, next_attempt_at=now, last_error="550",
    )
    run = JobRun.objects.create(job="retention-run", slot=now - timedelta(minutes=1),
                                queued_at=now, state=JobRunState.SUCCEEDED)
    client = _client(DPO)
    nb = {"HTTP_ACCEPT_LANGUAGE": "nb"}

    mail_list = client.get("/admin/worker/outgoingmail/", **nb).content.decode()
    assert ">Kurspåmelding bekreftet</a></th>" in mail_list  # the message's row, in words
    assert ">registration-confirmed<" not in mail_list
    assert "?kind=registration-confirmed\">Kurspåmelding bekreftet</a>" in mail_list  # filter

    run_list = client.get("/admin/worker/jobrun/", **nb).content.decode()
    assert ">Sletting etter oppbevaringstid</a>" in run_list  # the run's row links in words
    assert "?job=retention-run\">Sletting etter oppbevaringstid</a>" in run_list  # filter
    overview = run_list.split('data-job="audit-seal"')[1].split("</tr>")[0]
    assert "Forsegling av revisjonsloggen" in overview  # the overview of every job
    assert ">retention-run<" not in run_list and "<code>" not in run_list

    en = client.get(f"/admin/worker/jobrun/{run.pk}/change/",
                    HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Retention run" in en and "retention-run" in en  # the code is there to look up


@pytest.mark.django_db
def test_the_dpo_overview_names_recent_job_runs_in_words() -> None:
    now = timezone.now()
    JobRun.objects.create(job="retention-run", slot=now - timedelta(minutes=1),
                          queued_at=now, state=JobRunState.SUCCEEDED)
    html = _client(DPO).get("/admin/rights/request/overview/",
                            HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "<td>Sletting etter oppbevaringstid<br>" in html
    assert "<td>retention-run" not in html
