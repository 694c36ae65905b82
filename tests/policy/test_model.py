"""The shipped default policy carries the facts of JUS's statement; the model's helpers."""

from __future__ import annotations

import datetime as dt

import pytest

from personvern.policy import (
    ANCHORS,
    COHORTS,
    EU_EEA,
    Activity,
    Duration,
    DurationError,
    Policy,
    default_policy_path,
    load_policy,
)
from personvern.policy.locator import Locator, format_loc

REQUIRED_ACTIVITIES = {
    "course-participation": "b",
    "advokatforeningen-course-data": "b",
    "newsletter": "a",
    "market-research": "f",
    "inquiries": "f",
    "email-correspondence": "f",
    "customers-suppliers": "c",
    "competitions": "b",
    "recruitment": "b",
    "web-statistics": "f",
    "web-analytics-consent": "a",
}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def test_default_policy_is_shipped_in_the_package() -> None:
    assert default_policy_path().name == "default.toml"
    assert default_policy_path().parent.name == "policy"
    assert default_policy_path().is_file()


def test_default_policy_loads_without_errors(policy: Policy) -> None:
    assert isinstance(policy, Policy)
    assert all(w.severity == "warning" for w in policy.warnings)
    assert policy.source == str(default_policy_path())


@pytest.mark.req("R1")
def test_controller_is_jus_with_org_number_and_contact(policy: Policy) -> None:
    controller = policy.controller
    assert controller.name == "Juristenes Utdanningssenter"
    assert controller.org_no == "863 853 362"
    assert controller.site_name == "Jus.no"
    assert controller.email == "juspost@jus.no"
    assert controller.postal_address  # postal contact too
    assert controller.privacy_marker == "Personvern"


@pytest.mark.req("R2")
def test_every_activity_has_exactly_one_art_6_basis(policy: Policy) -> None:
    for activity_id, basis in REQUIRED_ACTIVITIES.items():
        assert policy.activity(activity_id).basis == basis
    assert policy.activity("customers-suppliers").national_law == "Bokføringsloven § 13"
    assert {a.basis for a in policy.activities} <= set("abcdef")


@pytest.mark.req("R3")
def test_processor_role_for_advokatforeningen(policy: Policy) -> None:
    activity = policy.activity("advokatforeningen-course-data")
    assert activity.role == "processor"
    assert activity.on_behalf_of == "Advokatforeningen"
    assert policy.processor_activities == [activity]
    assert activity not in policy.controller_activities
    assert policy.principal("advokatforeningen").name == "Advokatforeningen"


@pytest.mark.req("R4")
def test_purposes_include_customer_relationship_members_and_course_development(
    policy: Policy,
) -> None:
    course = [p.en for p in policy.activity("course-participation").purposes]
    assert any("customer relationship" in p for p in course)
    assert any("Juristforbundet" in p and "Advokatforeningen" in p for p in course)
    research = policy.activity("market-research")
    assert research.basis == "f" and research.objection_applies
    assert any("develop" in p.en for p in research.purposes)


@pytest.mark.req("R14")
def test_course_retention_10_years_for_members_5_years_for_others(policy: Policy) -> None:
    activity = policy.activity("course-participation")
    member = activity.rule("advokatforeningen-member")
    other = activity.rule("other-participants")
    assert (member.keep, member.after, member.cohort) == (
        Duration("10y"),
        "course-end",
        "advokatforeningen-member",
    )
    assert (other.keep, other.after, other.cohort) == (
        Duration("5y"),
        "customer-relationship-end",
        None,
    )


@pytest.mark.req("R27")
def test_recruitment_retention_by_cohort(policy: Policy) -> None:
    rules = {r.cohort: r for r in policy.activity("recruitment").retention}
    assert str(rules["open-application"].keep) == "210d"
    assert rules["open-application"].after == "received"
    assert rules["posted-position"].after == "recruitment-closed"
    assert rules["hired"].after == "employment-end"


def test_other_retention_facts(policy: Policy) -> None:
    bookkeeping = policy.activity("customers-suppliers").rule("bookkeeping")
    assert (str(bookkeeping.keep), bookkeeping.after) == ("5y", "fiscal-year-end")
    mailbox = policy.activity("email-correspondence").rule("mailbox")
    assert str(mailbox.keep) == "1y"
    assert policy.activity("newsletter").rule("subscription").after == "withdrawn"
    assert policy.activity("competitions").retention[0].after == "competition-end"
    inquiry = policy.activity("inquiries").rule("customer-profile")
    assert inquiry.our_choice  # the statement leaves "while relevant" open
    assert policy.activity("web-statistics").stores_data is False
    assert policy.activity("web-statistics").retention == []


@pytest.mark.req("R6")
def test_subject_categories_of_the_statement(policy: Policy) -> None:
    used = {s for a in policy.activities for s in a.subjects}
    assert {
        "course-participants",
        "newsletter-subscribers",
        "customers-partners-suppliers",
        "website-visitors",
        "inquirers",
        "customer-representatives",
        "job-applicants",
        "email-correspondents",
    } <= used


@pytest.mark.req("R7")
@pytest.mark.req("R8")
def test_all_processors_in_eu_eea_with_a_dpa(policy: Policy) -> None:
    assert policy.processors
    for processor in policy.processors:
        assert processor.country in EU_EEA
        assert set(processor.storage) <= EU_EEA
        assert isinstance(processor.dpa_date, dt.date)
    assert policy.processor("finn").name == "FINN.no AS"


@pytest.mark.req("R11")
@pytest.mark.req("R25")
def test_recipients_hotels_and_finn(policy: Policy) -> None:
    hotel = policy.activity("course-participation").recipients[0]
    assert "hotel" in hotel.name.en.lower()
    assert hotel.condition is not None and "overnight" in hotel.condition.en
    assert set(hotel.data_categories) <= set(
        policy.activity("course-participation").data_categories
    )
    finn = policy.activity("recruitment").recipients[0]
    assert (finn.kind, finn.processor) == ("processor", "finn")


@pytest.mark.req("R32")
@pytest.mark.req("R39")
def test_rights_and_datatilsynet(policy: Policy) -> None:
    rights = policy.rights
    assert (str(rights.response_time), str(rights.max_extension)) == ("1m", "2m")
    assert rights.channels == ["email", "post"]
    assert rights.marker == "Personvern"
    assert {r.id for r in rights.rights} >= {
        "access",
        "rectification",
        "erasure",
        "restriction",
        "objection",
        "portability",
    }
    authority = policy.supervisory_authority
    assert authority.name.nb == "Datatilsynet"
    assert authority.postal_address[-2:] == ["Postboks 458 Sentrum", "0105 Oslo"]
    assert authority.complaint_url == (
        "https://www.datatilsynet.no/om-datatilsynet/kontakt-oss/klage-til-datatilsynet/"
    )


@pytest.mark.req("R41")
def test_last_updated_and_changelog(policy: Policy) -> None:
    assert policy.last_updated == dt.date(2022, 4, 5)
    assert policy.changelog[-1].date == dt.date(2022, 4, 5)
    assert policy.changelog[-1].version == policy.version


@pytest.mark.req("R28")
def test_cookies_necessary_and_analytics(policy: Policy) -> None:
    names = {c.name: c for c in policy.cookies}
    assert {"sessionid", "csrftoken"} <= set(names)
    assert names["sessionid"].category == "necessary" and not names["sessionid"].consent_required
    analytics = [c for c in policy.cookies if c.category == "analytics"]
    assert analytics and all(c.consent_required for c in analytics)
    assert all(c.activity == "web-analytics-consent" for c in analytics)


def test_every_text_has_both_languages(policy: Policy) -> None:
    for activity in policy.activities:
        assert activity.title.nb and activity.title.en
        assert activity.title.get("nb-no") == activity.title.nb
        assert activity.title.get("en") == activity.title.en
        assert activity.title.get(None) == activity.title.en


def test_unknown_activity_is_a_key_error(policy: Policy) -> None:
    with pytest.raises(KeyError):
        policy.activity("no-such-activity")


@pytest.mark.req("R37")
@pytest.mark.req("R38")
def test_portability_and_objection_follow_the_basis(policy: Policy) -> None:
    def flags(activity: Activity) -> tuple[bool, bool]:
        return activity.portable, activity.objection_applies

    assert flags(policy.activity("newsletter")) == (True, False)  # consent
    assert flags(policy.activity("course-participation")) == (True, False)  # contract
    assert flags(policy.activity("customers-suppliers")) == (False, False)  # legal obligation
    assert flags(policy.activity("market-research")) == (False, True)  # legitimate interest


def test_anchors_and_cohorts_used_by_the_default_are_known(policy: Policy) -> None:
    for activity in policy.activities:
        for rule in activity.retention:
            assert rule.after in ANCHORS
            assert rule.cohort is None or rule.cohort in COHORTS


# ------------------------------------------------------------------ Duration


@pytest.mark.parametrize(
    ("text", "days", "months", "years"),
    [("210d", 210, 0, 0), ("2w", 14, 0, 0), ("6m", 0, 6, 0), ("1y", 0, 0, 1), ("10y", 0, 0, 10)],
)
def test_duration_parses_units(text: str, days: int, months: int, years: int) -> None:
    duration = Duration(text)
    assert (duration.days, duration.months, duration.years) == (days, months, years)
    assert str(duration) == text


def test_duration_calendar_arithmetic() -> None:
    leap = dt.date(2024, 2, 29)
    assert Duration("1y").add_to(leap) == dt.date(2025, 2, 28)
    assert Duration("1y").subtract_from(leap) == dt.date(2023, 2, 28)
    assert Duration("1m").add_to(dt.date(2025, 1, 31)) == dt.date(2025, 2, 28)
    assert Duration("6m").subtract_from(dt.date(2025, 3, 15)) == dt.date(2024, 9, 15)
    assert Duration("210d").subtract_from(dt.date(2025, 1, 1)) == dt.date(2024, 6, 5)
    assert Duration("2w").add_to(dt.date(2025, 1, 1)) == dt.date(2025, 1, 15)
    assert Duration("10y").subtract_from(dt.date(2035, 6, 30)) == dt.date(2025, 6, 30)


def test_duration_describe() -> None:
    assert Duration("10y").describe("en") == "10 years"
    assert Duration("1y").describe("nb") == "1 år"
    assert Duration("210d").describe("nb") == "210 dager"
    assert Duration("1m").describe("nb-no") == "1 måned"
    assert Duration("2w").describe("en") == "2 weeks"


@pytest.mark.parametrize("bad", ["", "10", "y", "10 years", "1.5y", "-1d", "10Y", "3q"])
def test_malformed_duration_is_refused(bad: str) -> None:
    with pytest.raises(DurationError, match="malformed duration"):
        Duration(bad)


# ------------------------------------------------------------------ locator


def test_locator_walks_arrays_of_tables_dotted_keys_and_multiline_values() -> None:
    text = "\n".join(
        [
            'title = """',  # 1
            "[[activity]]",  # 2: inside a multi-line string, not a header
            '"""',  # 3
            "[[activity]]",  # 4
            'id = "a"',  # 5
            "[[activity]]",  # 6
            'id = "b"  # comment',  # 7
            "title.nb = 'x'",  # 8
            "purposes = [",  # 9
            '  { nb = "p", en = "q" },',  # 10
            "  # a comment [",  # 11
            '  { nb = "r]", en = "s" },',  # 12
            "]",  # 13
            "[[activity.retention]]",  # 14
            'keep = "1y"',  # 15
            "[[activity.retention]]",  # 16
            'keep = "2y"',  # 17
            "[controller]",  # 18
            'name = "x"',  # 19
        ]
    )
    locator = Locator(text)
    assert locator.line(("activity", 0, "id")) == 5
    assert locator.line(("activity", 1, "id")) == 7
    assert locator.line(("activity", 1, "title", "nb")) == 8
    assert locator.line(("activity", 1, "title", "en")) == 8  # falls back to title
    assert locator.line(("activity", 1, "purposes", 0, "nb")) == 10
    assert locator.line(("activity", 1, "purposes", 1, "en")) == 12
    assert locator.line(("activity", 1, "retention", 1, "keep")) == 17
    assert locator.line(("activity", 1, "retention", 0, "after")) == 14  # missing key: header
    assert locator.line(("controller", "name")) == 19
    assert locator.line(("nothing",)) is None
    assert format_loc(("activity", 1, "retention", 0, "keep")) == "activity[1].retention[0].keep"
