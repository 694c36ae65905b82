"""Every audit action is shown in words (issue 9): each code written in src has a label.

The source is scanned when the test runs, so an action added later without a
label fails here, naming the code and the file that writes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from personvern.core.audit import audit_log
from personvern.core.audit_labels import FAMILIES, LABELS, action_label
from personvern.core.policy import current_policy

SRC = Path(__file__).resolve().parents[2] / "src" / "personvern"
#: ``action="a.b"`` or ``action=f"a.{x}"``: an audit code has a dot (argparse's do not).
ACTION = re.compile(r"""\baction\s*=\s*(f?)(["'])([^"'\n]*\.[^"'\n]*)\2""")


#: An audit call whose action is not written out (``action=action``): its file is read
#: for codes passed along in other ways (tuples of person, code and data).
INDIRECT = re.compile(r"\b(?:audit_log|new_entry|audit)\(\s*[^)]*?\baction\s*=\s*[a-z_]")
CODE_LITERAL = re.compile(r"""(["'])([a-z_]+(?:\.[a-z_]+)+)\1""")


def _codes_in_source() -> tuple[dict[str, str], dict[str, str]]:
    """(literal code → file, f-string template with ``*`` for each field → file)."""
    literal: dict[str, str] = {}
    templates: dict[str, str] = {}
    indirect: list[tuple[str, str]] = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(SRC))
        for match in ACTION.finditer(text):
            is_f, _quote, code = match.groups()
            if is_f and "{" in code:
                templates.setdefault(re.sub(r"\{[^}]*\}", "*", code), where)
            else:
                literal.setdefault(code, where)
        if INDIRECT.search(text):
            indirect.append((text, where))
    # In a file that hands a code to the audit call in a variable, a string shaped like
    # a code whose first part is an audit prefix is taken for one ("membership.changed").
    prefixes = {code.split(".")[0] for code in literal}
    for text, where in indirect:
        for match in CODE_LITERAL.finditer(text):
            code = match.group(2)
            if code.split(".")[0] in prefixes:
                literal.setdefault(code, where)
    return literal, templates


def test_the_scan_finds_the_actions_it_should() -> None:
    literal, templates = _codes_in_source()
    assert {"registration.moved_up", "rights.request.created", "retention.batch"} <= set(literal)
    assert "membership.changed" in literal  # handed to new_entry in a tuple (members feed)
    assert {"consent.*", "file.scan_*"} <= set(templates)


def test_every_action_written_in_src_has_a_label() -> None:
    literal, templates = _codes_in_source()
    unlabelled = {code: where for code, where in literal.items() if code not in LABELS}
    assert unlabelled == {}, (
        "audit actions without a label in personvern/core/audit_labels.py LABELS: "
        + ", ".join(f"{code} ({where})" for code, where in sorted(unlabelled.items()))
    )
    undeclared = {t: where for t, where in templates.items() if t not in FAMILIES}
    assert undeclared == {}, (
        "audit actions built with an f-string, not declared in audit_labels.FAMILIES: "
        + ", ".join(f"{t} ({where})" for t, where in sorted(undeclared.items()))
    )


def test_every_code_of_a_family_has_a_label_and_fits_its_template() -> None:
    for template, codes in FAMILIES.items():
        pattern = re.compile(re.escape(template).replace(r"\*", r"[a-z_]+"))
        assert codes, template
        for code in codes:
            assert pattern.fullmatch(code), (template, code)
            assert code in LABELS, f"{code} (of {template}) has no label"


def test_labels_read_in_both_languages_and_an_unknown_code_is_shown_as_itself() -> None:
    with translation.override("nb"):
        assert action_label("registration.moved_up") == "Flyttet opp fra ventelisten"
    with translation.override("en"):
        assert action_label("registration.moved_up") == "Moved up from the waiting list"
    assert action_label("something.new") == "something.new"


def _superuser_client() -> Client:
    user = User.objects.create_superuser("dpo-admin", password="a-Long-test-passw0rd")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_audit_log_lists_actions_in_words_newest_first() -> None:
    activity = current_policy().activities[0]
    older = audit_log(actor="staff:kari", action="registration.moved_up", activity=activity.id)
    newer = audit_log(actor="staff:kari", action="hold.placed")
    client = _superuser_client()

    page = client.get("/admin/core/auditentry/", headers={"accept-language": "nb"})
    html = page.content.decode()

    assert "Flyttet opp fra ventelisten" in html and "Sperre mot sletting lagt inn" in html
    assert ">registration.moved_up<" not in html
    assert f"<td class=\"field-activity_shown\">{activity.title.nb}</td>" in html
    assert html.index(f"/admin/core/auditentry/{newer.pk}/change/") < html.index(
        f"/admin/core/auditentry/{older.pk}/change/"
    )
    # The filter offers the actions in words too, and filters by code.
    filtered = client.get("/admin/core/auditentry/?action=hold.placed",
                          headers={"accept-language": "nb"}).content.decode()
    assert f"/admin/core/auditentry/{older.pk}/change/" not in filtered
    assert f"/admin/core/auditentry/{newer.pk}/change/" in filtered


@pytest.mark.django_db
def test_an_audit_entry_shows_its_action_in_words_and_its_code() -> None:
    entry = audit_log(actor="staff:kari", action="registration.moved_up",
                      data={"course": 7})
    html = _superuser_client().get(
        f"/admin/core/auditentry/{entry.pk}/change/", headers={"accept-language": "en"}
    ).content.decode()
    assert "Moved up from the waiting list" in html
    assert "registration.moved_up" in html
    assert "course: 7" in html
