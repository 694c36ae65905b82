"""The notice and the cookie policy rendered from the default policy, in nb and en."""

from __future__ import annotations

import html

import pytest

from personvern.policy import Policy, load_policy
from personvern.policy.render import (
    format_date,
    render_cookie_policy,
    render_notice,
    retention_lines,
)
from tests.ci import skip_or_fail
from tests.policy.helpers import customer_statement
from tests.policy.statement import (
    copied_runs,
    fingerprint_of,
    fingerprint_path,
    read_fingerprint,
    sentences,
)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def _text(page: str) -> str:
    return html.unescape(page)


@pytest.mark.req("R2")
@pytest.mark.req("R4")
@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_notice_shows_every_activity_with_purpose_basis_data_recipients_retention(
    policy: Policy, lang: str, fmt: str
) -> None:
    page = _text(render_notice(policy, lang, fmt))  # type: ignore[arg-type]

    for activity in policy.activities:
        assert activity.title.get(lang) in page
        for purpose in activity.purposes:
            assert purpose.get(lang) in page
        for category in activity.data_categories:
            assert policy.data_category(category).name.get(lang) in page
        for recipient in activity.recipients:
            assert recipient.name.get(lang) in page
        for line in retention_lines(activity, lang):
            assert line["text"] in page
    basis_words = (
        {"a": "bokstav a", "b": "bokstav b", "c": "bokstav c", "f": "bokstav f"}
        if lang == "nb"
        else {"a": "6(1)(a)", "b": "6(1)(b)", "c": "6(1)(c)", "f": "6(1)(f)"}
    )
    for words in basis_words.values():
        assert words in page


@pytest.mark.req("R1")
@pytest.mark.req("R5")
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_notice_names_the_controller_and_the_privacy_marker(policy: Policy, lang: str) -> None:
    page = _text(render_notice(policy, lang))

    assert "Juristenes Utdanningssenter" in page
    assert "863 853 362" in page
    assert "Jus.no" in page
    assert "mailto:juspost@jus.no" in page
    assert "Personvern" in page
    assert "0164 Oslo" in page


@pytest.mark.req("R14")
@pytest.mark.req("R27")
def test_retention_sentences_in_both_languages(policy: Policy) -> None:
    nb = _text(render_notice(policy, "nb"))
    en = _text(render_notice(policy, "en"))

    assert "Oppbevares i 10 år etter at kurset er avsluttet, og slettes deretter." in nb
    assert "Kept for 10 years after the course has ended, then deleted." in en
    # The rule without cohort covers everyone outside the other rules' cohorts.
    assert "Alle andre:</strong> Oppbevares i 5 år etter at kundeforholdet er avsluttet" in nb
    assert "Everyone else:</strong> Kept for 5 years after the customer relationship" in en
    assert "Oppbevares i 210 dager etter at vi mottok det" in nb
    assert "Kept until the recruitment process is over, then deleted." in en
    assert "5 years after the end of the fiscal year" in en
    assert "Bokføringsloven § 13" in en


@pytest.mark.req("R11")
@pytest.mark.req("R25")
def test_notice_names_hotels_and_finn_as_recipients(policy: Policy) -> None:
    en = _text(render_notice(policy, "en"))
    assert "The hotel where the course takes place" in en
    assert "Only for participants staying overnight" in en
    assert "FINN.no" in en


@pytest.mark.req("R3")
def test_notice_has_a_section_for_the_processor_role(policy: Policy) -> None:
    en = _text(render_notice(policy, "en"))
    section = en[en.index('id="processor-role"') :]
    assert "Course data and course information for members of Advokatforeningen" in section
    assert "On behalf of" in section and "Advokatforeningen" in section


@pytest.mark.req("R7")
@pytest.mark.req("R8")
@pytest.mark.req("R10")
def test_notice_explains_processors_location_dpa_and_audits(policy: Policy) -> None:
    en = _text(render_notice(policy, "en"))
    assert "All of them work from the EU/EEA" in en
    assert "data processing agreement with each supplier" in en
    assert "review regularly" in en
    assert "FINN.no AS" in en and "(Norway)" in en


@pytest.mark.req("R32")
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_notice_lists_the_rights_and_how_to_use_them(policy: Policy, lang: str) -> None:
    page = _text(render_notice(policy, lang))

    for right in policy.rights.rights:
        assert right.title.get(lang) in page
        assert right.text.get(lang) in page
    if lang == "nb":
        assert "senest innen 1 måned" in page
        assert "med inntil 2 måneder" in page
        assert "Per post, merket «Personvern»" in page
    else:
        assert "at the latest within 1 month" in page
        assert "by up to 2 months" in page
        assert "By post, marked “Personvern”" in page
    # Portability and objection name the activities they apply to.
    objection = page[page.index(policy.rights.right[4].title.get(lang)) :]
    assert policy.activity("market-research").title.get(lang) in objection


@pytest.mark.req("R39")
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_notice_gives_the_complaint_address_of_datatilsynet(policy: Policy, lang: str) -> None:
    page = _text(render_notice(policy, lang, "md"))
    assert "Datatilsynet" in page
    assert "Postboks 458 Sentrum" in page and "0105 Oslo" in page
    assert "https://www.datatilsynet.no/om-datatilsynet/kontakt-oss/klage-til-datatilsynet/" in page


@pytest.mark.req("R41")
def test_notice_carries_last_updated_date_and_version_history(policy: Policy) -> None:
    nb = _text(render_notice(policy, "nb"))
    en = _text(render_notice(policy, "en"))

    assert "Sist oppdatert 5. april 2022" in nb
    assert "Last updated 5 April 2022" in en
    assert 'id="history"' in en and '<time datetime="2022-04-05">' in en
    assert policy.changelog[0].summary.en in en
    assert format_date(policy.last_updated, "nb") == "5. april 2022"
    # The cookie policy is a page of its own, linked from the notice.
    assert 'href="/privacy/cookies/"' in en


def test_notice_is_a_full_page_or_a_fragment(policy: Policy) -> None:
    page = render_notice(policy, "en")
    fragment = render_notice(policy, "en", standalone=False)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert fragment.startswith('<article class="privacy-notice"')
    assert "<html" not in fragment


def test_notice_texts_are_our_own_words(policy: Policy) -> None:
    """No sentence of the customer's statement is copied into the rendered notice.

    Compared against the statement when it is beside the checkout (and then the
    committed fingerprint must be current), else against the fingerprint of its
    sentences (tests/policy/statement.py), so it runs in every checkout, CI's
    clone included. With neither, it fails in CI and skips elsewhere.
    """
    path = customer_statement()
    known = read_fingerprint()
    if path is None and known is None:
        skip_or_fail(
            "the customer's statement (shared/seed/personvernerklaering.txt) is neither "
            "beside this checkout nor in $PERSONVERN_SHARED_DIR, and its fingerprint "
            f"{fingerprint_path()} is missing"
        )
    if path is not None:
        statement = path.read_text(encoding="utf-8")
        assert len(sentences(statement)) >= 10, f"{path} has too little text to compare with"
        assert known == set(fingerprint_of(statement)), (
            "the statement changed: regenerate its fingerprint with "
            "`python -m tests.policy.statement`"
        )
    assert known is not None and len(known) >= 10
    for lang in ("nb", "en"):
        notice = _text(render_notice(policy, lang, "md"))
        if path is not None:
            assert [s for s in sentences(statement) if s in notice] == []
        assert copied_runs(notice, known) == []


def test_unknown_format_is_refused(policy: Policy) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render_notice(policy, "en", "pdf")  # type: ignore[arg-type]


@pytest.mark.req("R28")
@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_cookie_policy_lists_each_cookie(policy: Policy, lang: str, fmt: str) -> None:
    page = _text(render_cookie_policy(policy, lang, fmt))  # type: ignore[arg-type]

    for cookie in policy.cookies:
        assert cookie.name in page
        assert cookie.purpose.get(lang) in page
        assert cookie.describe_lifetime(lang) in page
    consent = "Bare med ditt samtykke" if lang == "nb" else "Only with your consent"
    assert page.count(consent) == sum(1 for c in policy.cookies if c.consent_required)
    assert policy.cookie_policy.consent.get(lang) in page


@pytest.mark.req("R41")
def test_cookie_policy_is_its_own_page(policy: Policy) -> None:
    page = render_cookie_policy(policy, "en")
    assert "<title>Cookie policy" in page
    assert 'href="/privacy/"' in page  # back to the notice
    assert "Last updated 5 April 2022" in page


@pytest.mark.req("R3")
def test_processor_activity_points_to_where_its_data_is_kept(policy: Policy) -> None:
    en = _text(render_notice(policy, "en"))
    nb = _text(render_notice(policy, "nb"))
    assert "The data is kept as part of “Course and event registration and participation”" in en
    assert "oppbevares som en del av «Påmelding og deltakelse på kurs og arrangementer»" in nb
