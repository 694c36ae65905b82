"""The record of processing activities (Art. 30) in CSV, XLSX and DPV JSON-LD."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook

from personvern.policy import Policy, load_policy
from personvern.policy.ropa import (
    PART_CONTROLLER,
    PART_PROCESSOR,
    ropa_csv,
    ropa_jsonld,
    ropa_rows,
    ropa_xlsx,
)
from personvern.policy.vocab import DPV_PREFIXES, DPV_TERMS_PATH, dpv_terms, expand_iri


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


@pytest.mark.req("R2")
@pytest.mark.req("R3")
def test_rows_have_a_controller_part_and_a_processor_part(policy: Policy) -> None:
    rows = ropa_rows(policy)

    controller = [r for r in rows if r["part"] == PART_CONTROLLER]
    processor = [r for r in rows if r["part"] == PART_PROCESSOR]
    assert {r["activity_id"] for r in controller} == {a.id for a in policy.controller_activities}
    assert [r["activity_id"] for r in processor] == ["advokatforeningen-course-data"]
    # Art. 30(2)(a): the processor and the controller it works for, with contacts.
    assert processor[0]["controller"].startswith("Advokatforeningen")
    assert "Juristenes Utdanningssenter" in processor[0]["processor"]
    assert "863 853 362" in controller[0]["controller"]
    course = next(r for r in rows if r["activity_id"] == "course-participation")
    assert "6(1)(b)" in course["legal_basis"]
    assert "Kept for 10 years after the course has ended" in course["retention"]
    assert "None: all processing and storage in the EU/EEA" in course["third_country_transfers"]
    assert "inquiries" in {r["activity_id"] for r in rows if r["our_choice"]}


@pytest.mark.req("R3")
def test_csv_has_both_parts(policy: Policy) -> None:
    rows = list(csv.DictReader(io.StringIO(ropa_csv(policy))))

    assert {r["part"] for r in rows} == {PART_CONTROLLER, PART_PROCESSOR}
    assert len(rows) == len(policy.activities)
    recruitment = next(r for r in rows if r["activity_id"] == "recruitment")
    assert "FINN.no" in recruitment["recipients"]
    assert "Kept for 210 days after we received it" in recruitment["retention"]


def test_csv_in_norwegian(policy: Policy) -> None:
    rows = list(csv.DictReader(io.StringIO(ropa_csv(policy, "nb"))))
    course = next(r for r in rows if r["activity_id"] == "course-participation")
    assert "bokstav b" in course["legal_basis"]
    assert "Oppbevares i 10 år" in course["retention"]


@pytest.mark.req("R3")
@pytest.mark.req("R10")
def test_xlsx_has_controller_processor_and_processors_sheets(policy: Policy) -> None:
    workbook = load_workbook(io.BytesIO(ropa_xlsx(policy)))

    assert workbook.sheetnames == [PART_CONTROLLER, PART_PROCESSOR, "Processors"]
    controller = list(workbook[PART_CONTROLLER].iter_rows(values_only=True))
    processor = list(workbook[PART_PROCESSOR].iter_rows(values_only=True))
    assert controller[0][0] == "Part"
    assert len(controller) - 1 == len(policy.controller_activities)
    assert processor[1][1] == "advokatforeningen-course-data"
    processors = list(workbook["Processors"].iter_rows(values_only=True))
    header = processors[0]
    assert "Next audit due" in header and "Audit overdue" in header
    assert {row[0] for row in processors[1:]} == {p.name_in("en") for p in policy.processors}


def _vocabulary_iris(node: Any) -> Iterator[str]:
    """Every term the document uses as property, type or IRI value (not our own nodes)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                continue
            if not key.startswith("@"):
                yield key
            if key == "@type":
                yield from value if isinstance(value, list) else [value]
            if key == "@id" and not value.startswith("urn:personvern:"):
                yield value
            yield from _vocabulary_iris(value)
    elif isinstance(node, list):
        for item in node:
            yield from _vocabulary_iris(item)


@pytest.mark.req("R3")
def test_jsonld_uses_only_dpv_2_3_terms(policy: Policy) -> None:
    document = ropa_jsonld(policy)

    assert set(document["@context"].values()) <= set(DPV_PREFIXES.values())
    used = {expand_iri(term) for term in _vocabulary_iris(document)}
    assert used, "the document uses no vocabulary at all"
    assert used - dpv_terms() == set()
    # The list the test checks against is the file shipped with the package.
    assert DPV_TERMS_PATH.parent.name == "policy"
    assert "https://w3id.org/dpv#PersonalDataHandling" in used
    assert "https://w3id.org/dpv/legal/eu/gdpr#A6-1-c" in used
    assert "https://w3id.org/dpv/pd#Name" in used
    assert "https://w3id.org/dpv/loc#NO" in used
    assert "https://w3id.org/dpv/legal/no#DPA-NO" in used


def test_the_iri_check_catches_a_made_up_term() -> None:
    fake = {"@graph": [{"@type": "dpv:MadeUpThing", "dpv:hasName": "x"}]}
    used = {expand_iri(term) for term in _vocabulary_iris(fake)}
    assert used - dpv_terms() == {"https://w3id.org/dpv#MadeUpThing"}


@pytest.mark.req("R3")
def test_jsonld_has_the_controller_and_processor_records(policy: Policy) -> None:
    graph = {node["@id"]: node for node in ropa_jsonld(policy)["@graph"]}

    controller_record = graph["urn:personvern:ropa:controller"]
    processor_record = graph["urn:personvern:ropa:processor"]
    assert controller_record["@type"] == processor_record["@type"] == "dpv:ROPA"
    assert processor_record["dpv:hasPersonalDataHandling"] == [
        {"@id": "urn:personvern:activity:advokatforeningen-course-data"}
    ]
    processing = graph["urn:personvern:activity:advokatforeningen-course-data"]
    assert processing["dpv:hasDataController"] == {
        "@id": "urn:personvern:principal:advokatforeningen"
    }
    assert processing["dpv:hasDataProcessor"] == {"@id": "urn:personvern:controller"}
    course = graph["urn:personvern:activity:course-participation"]
    durations = {c["dpv:hasName"]: c["dpv:hasDuration"] for c in course["dpv:hasStorageCondition"]}
    assert durations == {"advokatforeningen-member": "P10Y", "other-participants": "P5Y"}
    assert graph["urn:personvern:controller"]["dpv:hasIdentifier"] == "863 853 362"


@pytest.mark.req("R17")
@pytest.mark.req("R3")
def test_jsonld_states_both_newsletter_bases_each_for_its_subjects(policy: Policy) -> None:
    graph = {node["@id"]: node for node in ropa_jsonld(policy)["@graph"]}
    newsletter = graph["urn:personvern:activity:newsletter"]

    # Consent, and the membership of Advokatforeningen (the membership agreement,
    # on Advokatforeningen's behalf): both, as the notice and the CSV say.
    assert newsletter["dpv:hasLegalBasis"] == [
        {"@id": "eu-gdpr:A6-1-a"}, {"@id": "eu-gdpr:A6-1-b"}
    ]
    assert {"@id": "dpv:Member"} in newsletter["dpv:hasDataSubject"]
    parts = {
        tuple(s["@id"] for s in part["dpv:hasDataSubject"]): part
        for part in newsletter["dpv:hasPersonalDataHandling"]
    }
    assert parts[("dpv:Subscriber",)]["dpv:hasLegalBasis"] == {"@id": "eu-gdpr:A6-1-a"}
    members = parts[("dpv:Member",)]
    assert members["dpv:hasLegalBasis"] == {"@id": "eu-gdpr:A6-1-b"}
    assert members["dpv:hasDataController"] == {
        "@id": "urn:personvern:principal:advokatforeningen"
    }
    assert members["dpv:hasDataProcessor"] == {"@id": "urn:personvern:controller"}
    # The same basis as the processing it is done under, and as the policy says.
    done_under = graph["urn:personvern:activity:advokatforeningen-course-data"]
    assert done_under["dpv:hasLegalBasis"] == members["dpv:hasLegalBasis"]
    assert policy.activity("newsletter").basis_of("advokatforeningen-members") == "b"
    # An activity on one basis keeps the single reference.
    assert graph["urn:personvern:activity:inquiries"]["dpv:hasLegalBasis"] == {
        "@id": "eu-gdpr:A6-1-f"
    }


@pytest.mark.req("R17")
def test_csv_xlsx_and_notice_name_the_newsletter_s_second_basis(policy: Policy) -> None:
    from personvern.policy.render import notice_context

    rows = list(csv.DictReader(io.StringIO(ropa_csv(policy))))
    newsletter = next(r for r in rows if r["activity_id"] == "newsletter")
    assert newsletter["legal_basis"].startswith(
        "Consent (GDPR Art. 6(1)(a)); Members of Advokatforeningen: Contract"
    )
    assert "active membership" in newsletter["legal_basis"]  # the basis note follows
    nb = next(r for r in ropa_rows(policy, "nb") if r["activity_id"] == "newsletter")
    assert "Medlemmer av Advokatforeningen: " in nb["legal_basis"]
    assert "bokstav b" in nb["legal_basis"] and "bokstav a" in nb["legal_basis"]
    sheet = load_workbook(io.BytesIO(ropa_xlsx(policy)))[PART_CONTROLLER]
    header, *body = list(sheet.iter_rows(values_only=True))
    column = header.index("Legal basis")
    row = next(r for r in body if r[1] == "newsletter")
    assert row[column] == newsletter["legal_basis"]
    shown = next(a for a in notice_context(policy, "en")["activities"] if a["id"] == "newsletter")
    assert "Members of Advokatforeningen: Contract" in shown["basis"]
