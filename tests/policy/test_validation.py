"""Validation of the policy file: each rule with a broken copy of the default policy.

Every test checks that the problem names the file, the line and the field, so
an operator can go straight to the mistake.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from personvern.policy import PolicyError, load_policy, parse_policy
from tests.policy.helpers import DEFAULT_TEXT, edit, find, line_of, problems, write

COURSE = 'id = "course-participation"'
RECRUITMENT = 'id = "recruitment"'
FINN = 'id = "finn"'


def _activity_index(activity_id: str) -> int:
    policy = load_policy()
    return [a.id for a in policy.activities].index(activity_id)


@pytest.mark.req("R2")
def test_activity_without_basis_is_refused_at_its_header(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'basis = "b"\n', "", after=COURSE)
    path = write(tmp_path, text)

    problem = find(problems(path), "activity[0].basis")

    assert problem.file == str(path)
    assert problem.line == line_of(text, "[[activity]]\n")
    assert "exactly one Art. 6(1) basis" in problem.message
    assert problem.severity == "error"
    assert f"{path}:{problem.line}: error: activity[0].basis:" in str(problem)


@pytest.mark.req("R2")
def test_activity_with_two_bases_is_refused(tmp_path: Path) -> None:
    text = edit(
        DEFAULT_TEXT, 'basis = "f"\n', 'basis = ["f", "a"]\n', after='id = "market-research"'
    )
    path = write(tmp_path, text)
    index = _activity_index("market-research")

    problem = find(problems(path), f"activity[{index}].basis")

    assert problem.line == line_of(text, 'basis = ["f", "a"]')
    assert "exactly one Art. 6(1) basis" in problem.message
    assert "found 2" in problem.message


@pytest.mark.req("R2")
def test_unknown_legal_basis_letter_is_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'basis = "b"\n', 'basis = "g"\n', after=COURSE)
    path = write(tmp_path, text)

    problem = find(problems(path), "activity[0].basis")

    assert problem.line == line_of(text, 'basis = "g"')
    assert "unknown legal basis 'g'" in problem.message


@pytest.mark.req("R7")
def test_processor_outside_eu_eea_without_transfer_mechanism_is_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'country = "NO"', 'country = "US"', after=FINN)
    path = write(tmp_path, text)

    problem = find(problems(path), "processor[0].country")

    assert problem.file == str(path)
    assert problem.line == line_of(text, 'country = "US"')
    assert "outside the EU/EEA" in problem.message
    assert "transfer_mechanism" in problem.message


@pytest.mark.req("R7")
def test_storage_location_outside_eu_eea_is_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'storage = ["NO"]', 'storage = ["NO", "CN"]', after=FINN)
    path = write(tmp_path, text)

    problem = find(problems(path), "processor[0].storage[1]")

    assert problem.line == line_of(text, 'storage = ["NO", "CN"]')
    assert "stores data in CN, outside the EU/EEA" in problem.message


@pytest.mark.req("R7")
def test_transfer_mechanism_does_not_keep_the_eu_eea_promise(tmp_path: Path) -> None:
    # The statement promises EU/EEA-only processing: standard contractual clauses
    # make a transfer lawful, but the promise would still be broken.
    text = edit(
        DEFAULT_TEXT,
        'country = "NO"',
        'country = "US"\ntransfer_mechanism = "standard-contractual-clauses"',
        after=FINN,
    )
    path = write(tmp_path, text)

    problem = find(problems(path), "processor[0].country")

    assert problem.severity == "error"
    assert problem.line == line_of(text, 'country = "US"')
    promise_line = line_of(text, "processors_eu_eea_only = true")
    assert f"notice.processors_eu_eea_only at line {promise_line}" in problem.message


@pytest.mark.req("R8")
def test_processor_without_dpa_date_is_refused(tmp_path: Path) -> None:
    text = edit(
        DEFAULT_TEXT,
        "dpa_date = 2022-04-05  # our choice: verify; "
        "the statement says a DPA exists but gives no date\n",
        "",
        after=FINN,
    )
    path = write(tmp_path, text)

    problem = find(problems(path), "processor[0].dpa_date")

    # A missing key is reported at the header of the table that lacks it.
    assert problem.line == line_of(text, "[[processor]]")
    assert "data processing agreement" in problem.message


@pytest.mark.req("R10")
def test_overdue_processor_audit_is_a_warning_not_an_error(tmp_path: Path) -> None:
    text = edit(
        DEFAULT_TEXT,
        'audit_interval = "1y"  # our choice',
        'audit_interval = "1y"\nlast_audit = 2024-01-15',
        after=FINN,
    )
    path = write(tmp_path, text)

    overdue = load_policy(path, as_of=dt.date(2025, 3, 1))
    on_time = load_policy(path, as_of=dt.date(2025, 1, 15))

    warning = next(w for w in overdue.warnings if w.field == "processor[0].last_audit")
    assert warning.severity == "warning"
    assert warning.line == line_of(text, "last_audit = 2024-01-15")
    assert "overdue" in warning.message and "2025-01-15" in warning.message
    assert not any(w.field == "processor[0].last_audit" for w in on_time.warnings)
    assert overdue.processor("finn").next_audit_due() == dt.date(2025, 1, 15)
    assert overdue.processor("finn").audit_overdue(dt.date(2025, 3, 1))
    assert not overdue.processor("finn").audit_overdue(dt.date(2025, 1, 15))


@pytest.mark.req("R14")
def test_retention_rule_with_unknown_anchor_is_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'after = "course-end"', 'after = "course-ended"', after=COURSE)
    path = write(tmp_path, text)

    problem = find(problems(path), "activity[0].retention[0].after")

    assert problem.line == line_of(text, 'after = "course-ended"')
    assert "unknown anchor 'course-ended'" in problem.message


@pytest.mark.req("R27")
def test_retention_rule_with_unknown_cohort_is_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'cohort = "hired"', 'cohort = "employees"', after=RECRUITMENT)
    path = write(tmp_path, text)
    index = _activity_index("recruitment")

    problem = find(problems(path), f"activity[{index}].retention[2].cohort")

    assert problem.line == line_of(text, 'cohort = "employees"')
    assert "unknown cohort 'employees'" in problem.message


def test_malformed_duration_is_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'keep = "210d"', 'keep = "210 days"', after=RECRUITMENT)
    path = write(tmp_path, text)
    index = _activity_index("recruitment")

    problem = find(problems(path), f"activity[{index}].retention[0].keep")

    assert problem.line == line_of(text, 'keep = "210 days"')
    assert "malformed duration '210 days'" in problem.message


def test_duplicate_activity_id_is_refused_naming_both_lines(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'id = "newsletter"', 'id = "course-participation"')
    path = write(tmp_path, text)
    index = _activity_index("newsletter")

    problem = find(problems(path), f"activity[{index}].id")

    second = text.index('id = "course-participation"', text.index(COURSE) + 1)
    assert problem.line == text.count("\n", 0, second) + 1
    assert f"already declared at line {line_of(text, COURSE)}" in problem.message


def test_duplicate_processor_cookie_and_rule_ids_are_all_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'id = "hosting"', 'id = "finn"')
    text = edit(text, 'name = "csrftoken"', 'name = "sessionid"')
    text = edit(text, 'id = "posted-position"', 'id = "open-application"', after=RECRUITMENT)
    path = write(tmp_path, text)
    index = _activity_index("recruitment")

    found = problems(path)

    assert "duplicate processor id 'finn'" in find(found, "processor[1].id").message
    assert "duplicate cookie name 'sessionid'" in find(found, "cookie[1].name").message
    rule = find(found, f"activity[{index}].retention[1].id")
    assert "open-application" in rule.message
    assert rule.line == line_of(text, 'id = "open-application"', after='keep = "210d"')


def test_missing_english_text_is_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'title.en = "Newsletter"\n', "")
    path = write(tmp_path, text)
    index = _activity_index("newsletter")

    problem = find(problems(path), f"activity[{index}].title.en")

    assert problem.line == line_of(text, 'title.nb = "Nyhetsbrev"')
    assert "English (en) text is missing" in problem.message


def test_missing_norwegian_text_in_an_inline_table_is_refused(tmp_path: Path) -> None:
    old = '{ nb = "Oppfylle bokføringsplikten", en = "Meeting our bookkeeping obligations"'
    text = edit(DEFAULT_TEXT, old, '{ en = "Meeting our bookkeeping obligations"')
    path = write(tmp_path, text)
    index = _activity_index("customers-suppliers")

    problem = find(problems(path), f"activity[{index}].purposes[0].nb")

    # The locator finds the line of the array element inside a multi-line array.
    assert problem.line == line_of(text, '{ en = "Meeting our bookkeeping obligations"')
    assert "Norwegian Bokmål (nb) text is missing" in problem.message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'basis = "b"\n', 'basis = "x"\n', after=COURSE)
    text = edit(text, 'keep = "210d"', 'keep = "210"', after=RECRUITMENT)
    text = edit(text, 'country = "NO"', 'country = "US"', after=FINN)
    text = edit(text, 'name = "csrftoken"', 'name = "sessionid"')
    text = edit(text, 'title.en = "Newsletter"\n', "")
    path = write(tmp_path, text)

    with pytest.raises(PolicyError) as caught:
        load_policy(path)

    errors = caught.value.errors
    fields = {p.field for p in errors}
    recruitment = _activity_index("recruitment")
    newsletter = _activity_index("newsletter")
    assert {
        "activity[0].basis",
        f"activity[{recruitment}].retention[0].keep",
        "processor[0].country",
        "cookie[1].name",
        f"activity[{newsletter}].title.en",
    } <= fields
    assert all(p.file == str(path) and p.line for p in errors)
    assert "the policy has 5 errors" in str(caught.value)
    # Sorted by line, so the report reads top to bottom.
    assert [p.line for p in caught.value.problems] == sorted(
        p.line or 0 for p in caught.value.problems
    )


def test_unknown_field_is_refused_as_a_probable_typo(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'keep = "10y"', 'keep = "10y"\nkeeep = "5y"', after=COURSE)
    path = write(tmp_path, text)

    problem = find(problems(path), "activity[0].retention[0].keeep")

    assert problem.line == line_of(text, 'keeep = "5y"')
    assert "unknown field 'keeep'" in problem.message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'keep = "10y"', 'keep = "10y', after=COURSE)
    path = write(tmp_path, text)

    [problem] = problems(path)

    assert problem.line == line_of(text, 'keep = "10y\n')
    assert "not valid TOML" in problem.message


def test_references_to_undeclared_categories_and_processors_are_refused(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'subjects = ["job-applicants"]', 'subjects = ["job-seekers"]')
    text = edit(text, 'processor = "finn"', 'processor = "finn-no"')
    path = write(tmp_path, text)
    index = _activity_index("recruitment")

    found = problems(path)

    assert (
        "unknown subject category 'job-seekers'"
        in find(found, f"activity[{index}].subjects[0]").message
    )
    problem = find(found, f"activity[{index}].recipients[0].processor")
    assert problem.line == line_of(text, 'processor = "finn-no"')


@pytest.mark.req("R3")
def test_processor_role_needs_the_controller_it_works_for(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'on_behalf_of = "Advokatforeningen"\n', "")
    path = write(tmp_path, text)

    problem = find(problems(path), "activity[1].role")

    assert problem.line == line_of(text, 'role = "processor"')
    assert "on_behalf_of" in problem.message


@pytest.mark.req("R28")
@pytest.mark.req("R29")
def test_analytics_cookie_without_consent_is_refused(tmp_path: Path) -> None:
    text = edit(
        DEFAULT_TEXT, "consent_required = true", "consent_required = false", after='name = "_pk_id"'
    )
    path = write(tmp_path, text)

    problem = find(problems(path), "cookie[3].consent_required")

    assert "must require consent" in problem.message


def test_stored_data_without_retention_rule_is_refused(tmp_path: Path) -> None:
    block = (
        '[[activity.retention]]\nid = "bookkeeping"\nkeep = "5y"\nafter = "fiscal-year-end"\n'
        'action = "delete"\n'
    )
    text = edit(DEFAULT_TEXT, block, "")
    text = edit(text, 'note.nb = "Oppbevaringstiden følger bokføringsloven § 13."\n', "")
    text = edit(
        text, 'note.en = "The period follows section 13 of the Norwegian Bookkeeping Act."\n', ""
    )
    # ... and the rule for a retention term agreed with the organisation (a cohort).
    start = text.index('[[activity.retention]]\nid = "agreed-term"')
    text = text[: start] + text[text.index("[[activity]]", start):]
    path = write(tmp_path, text)
    index = _activity_index("customers-suppliers")

    problem = find(problems(path), f"activity[{index}]")

    assert "has no retention rule" in problem.message


def test_version_and_last_updated_must_match_the_changelog(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, "last_updated = 2022-04-05", "last_updated = 2023-01-01")
    text = edit(text, 'version = "2022.1"', 'version = "2023.1"')
    path = write(tmp_path, text)

    found = problems(path)

    assert find(found, "last_updated").line == line_of(text, "last_updated = 2023-01-01")
    assert "not the newest changelog entry" in find(found, "version").message


def test_parse_policy_reports_the_given_source_name() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy('version = "1"\n', source="inline.toml")

    assert all(p.file == "inline.toml" for p in caught.value.problems)
    assert any(p.field == "activity" for p in caught.value.problems)


def test_unreadable_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "missing.toml")

    assert "cannot read the policy" in str(caught.value)


@pytest.mark.req("R3")
def test_stored_under_must_name_an_activity_and_go_with_stores_data_false(
    tmp_path: Path,
) -> None:
    text = edit(DEFAULT_TEXT, 'stored_under = "course-participation"', 'stored_under = "courses"')
    text = edit(text, "stores_data = false", "stores_data = true", after="Advokatforeningen")
    path = write(tmp_path, text)

    found = [p for p in problems(path) if p.field == "activity[1].stored_under"]

    assert {p.line for p in found} == {line_of(text, 'stored_under = "courses"')}
    assert any("unknown activity 'courses'" in p.message for p in found)
    assert any("requires stores_data = false" in p.message for p in found)


@pytest.mark.req("R17")
def test_a_second_basis_must_match_the_activity_it_is_done_under(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'basis = "b"\nunder =', 'basis = "f"\nunder =')
    path = write(tmp_path, text)
    index = _activity_index("newsletter")

    problem = find(problems(path), f"activity[{index}].basis_for[0].basis")

    assert "whose basis is 'b'" in problem.message
    text = edit(DEFAULT_TEXT, 'subjects = ["advokatforeningen-members"]\nbasis',
                'subjects = ["bar-members"]\nbasis')
    found = problems(write(tmp_path, text))
    assert "unknown subject category 'bar-members'" in find(
        found, f"activity[{index}].basis_for[0].subjects[0]").message
