"""The record of processing activities (GDPR Art. 30), generated from the policy.

Two parts: Art. 30(1), what we do as controller, and Art. 30(2), what we do as
processor for others (Advokatforeningen). Output as rows (CSV), a workbook
(XLSX, one sheet per part plus the processors) and JSON-LD in W3C DPV terms.
The JSON-LD only uses IRIs of the DPV 2.3 list shipped with this package.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from personvern.core.exports import spreadsheet_cell, xlsx_row

from . import labels
from .loader import today_in_oslo
from .models import Activity, Policy, Principal, Processor, Text
from .render import basis_text, retention_lines
from .vocab import DPV_PREFIXES, EU_EEA, TRANSFER_MECHANISMS

COLUMNS: list[tuple[str, str]] = [
    ("part", "Part"),
    ("activity_id", "Activity id"),
    ("activity", "Processing activity"),
    ("controller", "Controller (name and contact)"),
    ("processor", "Processor (name and contact)"),
    ("purposes", "Purposes"),
    ("legal_basis", "Legal basis"),
    ("data_subjects", "Categories of data subjects"),
    ("data_categories", "Categories of personal data"),
    ("recipients", "Recipients"),
    ("source", "Source"),
    ("third_country_transfers", "Transfers to third countries"),
    ("retention", "Time limits for erasure"),
    ("security_measures", "Technical and organisational measures"),
    ("our_choice", "Open points (our choice)"),
]

PART_CONTROLLER = "Art. 30(1) controller"
PART_PROCESSOR = "Art. 30(2) processor"


def _contact(name: str, email: str | None, address: list[str], org_no: str = "") -> str:
    parts = [name]
    if org_no:
        parts.append(_("org. no. %(number)s") % {"number": org_no})
    if email:
        parts.append(email)
    if address:
        parts.append(", ".join(address))
    return "; ".join(parts)


def _principal(policy: Policy, activity: Activity) -> Principal | None:
    return next((p for p in policy.principals if activity.on_behalf_of in (p.id, p.name)), None)


def _processors_of(policy: Policy, activity: Activity) -> list[Processor]:
    ids = [r.processor for r in activity.recipients if r.processor]
    return [policy.processor(i) for i in dict.fromkeys(ids)]


def _transfers(policy: Policy, activity: Activity, lang: str) -> str:
    outside = []
    for processor in _processors_of(policy, activity):
        countries = [c for c in [processor.country, *processor.storage] if c not in EU_EEA]
        if countries:
            mechanism = processor.transfer_mechanism or ""
            outside.append(
                f"{processor.name_in(lang)}: {', '.join(dict.fromkeys(countries))} "
                f"({labels.TRANSFER_MECHANISM_LABELS.get(mechanism, mechanism)})"
            )
    return "; ".join(outside) or _("None: all processing and storage in the EU/EEA")


def ropa_rows(policy: Policy, lang: str = "en") -> list[dict[str, str]]:
    """One row per activity, controller part first; keys are the COLUMNS ids."""
    with translation.override(lang):
        return _rows(policy, lang)


def _rows(policy: Policy, lang: str) -> list[dict[str, str]]:
    controller = policy.controller
    us = _contact(controller.name, controller.email, controller.postal_address, controller.org_no)
    measures = "; ".join(m.get(lang) for m in policy.security_measures)
    rows: list[dict[str, str]] = []
    for activity in [*policy.controller_activities, *policy.processor_activities]:
        principal = _principal(policy, activity)
        if activity.role == "processor":
            part = PART_PROCESSOR
            on_behalf = principal or Principal(id="unknown", name=activity.on_behalf_of or "")
            controller_text = _contact(on_behalf.name, on_behalf.email, on_behalf.postal_address)
            processor_text = us
        else:
            part, controller_text, processor_text = PART_CONTROLLER, us, ""
        basis = basis_text(policy, activity, lang)
        if activity.national_law:
            basis += f"; {activity.national_law}"
        if activity.basis_note:
            # Where the basis differs between subjects (the newsletter, R17) the note says how.
            basis += f". {activity.basis_note.get(lang)}"
        recipients = []
        for recipient in activity.recipients:
            text = f"{recipient.name.get(lang)} ({labels.RECIPIENT_KINDS[recipient.kind]})"
            if recipient.condition:
                text += f": {recipient.condition.get(lang)}"
            recipients.append(text)
        # Data kept under another activity follows that activity's rules.
        holder = policy.activity(activity.stored_under) if activity.stored_under else activity
        retention = [
            f"{line['label']}: {line['text']}" if line["label"] else line["text"]
            for line in retention_lines(holder, lang)
        ]
        if holder is not activity:
            retention.insert(
                0, _("Kept as part of “%(activity)s”:") % {"activity": holder.title.get(lang)}
            )
        open_points = [
            _("retention rule %(rule)s") % {"rule": r.id}
            for r in activity.retention
            if r.our_choice
        ]
        rows.append(
            {
                "part": part,
                "activity_id": activity.id,
                "activity": activity.title.get(lang),
                "controller": controller_text,
                "processor": processor_text,
                "purposes": "; ".join(p.get(lang) for p in activity.purposes),
                "legal_basis": basis,
                "data_subjects": "; ".join(
                    policy.subject_category(s).name.get(lang) for s in activity.subjects
                ),
                "data_categories": "; ".join(
                    policy.data_category(c).name.get(lang) for c in activity.data_categories
                ),
                "recipients": "; ".join(recipients) or _("None outside the organisation"),
                "source": activity.source.get(lang) if activity.source else _("The data subject"),
                "third_country_transfers": _transfers(policy, activity, lang),
                "retention": " ".join(retention) or _("Not stored (anonymous at once)"),
                "security_measures": measures,
                "our_choice": "; ".join(open_points),
            }
        )
    return rows


def ropa_csv(policy: Policy, lang: str = "en") -> str:
    """The record as CSV: a header row, then one row per activity (both parts)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[key for key, _ in COLUMNS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {key: spreadsheet_cell(value) for key, value in row.items()}
        for row in ropa_rows(policy, lang)
    )
    return buffer.getvalue()


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: list[list[Any]]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(xlsx_row(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(xlsx_row(row))
    for index in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 40
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def ropa_xlsx(policy: Policy, lang: str = "en") -> bytes:
    """The record as an Excel workbook: controller part, processor part, processors."""
    rows = ropa_rows(policy, lang)
    headers = [label for _, label in COLUMNS]
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for part in (PART_CONTROLLER, PART_PROCESSOR):
        _sheet(
            workbook,
            part,
            headers,
            [[row[key] for key, _ in COLUMNS] for row in rows if row["part"] == part],
        )
    today = today_in_oslo()
    _sheet(
        workbook,
        "Processors",
        [
            "Processor",
            "Service",
            "Works from",
            "Stores data in",
            "Transfer mechanism",
            "DPA date",
            "Audit interval",
            "Last audit",
            "Next audit due",
            "Audit overdue",
            "Placeholder",
        ],
        [
            [
                p.name_in(lang),
                p.service.get(lang),
                p.country,
                ", ".join(p.storage),
                p.transfer_mechanism or "",
                p.dpa_date,
                str(p.audit_interval),
                p.last_audit,
                p.next_audit_due(),
                "yes" if p.audit_overdue(today) else "no",
                "yes" if p.placeholder else "no",
            ]
            for p in policy.processors
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- JSON-LD

BASE = "urn:personvern:"
BASIS_IRIS = {
    "a": "eu-gdpr:A6-1-a",
    "b": "eu-gdpr:A6-1-b",
    "c": "eu-gdpr:A6-1-c",
    "d": "eu-gdpr:A6-1-d",
    "e": "eu-gdpr:A6-1-e",
    "f": "eu-gdpr:A6-1-f",
}
RIGHT_IRIS = {
    "access": "eu-gdpr:A15",
    "rectification": "eu-gdpr:A16",
    "erasure": "eu-gdpr:A17",
    "restriction": "eu-gdpr:A18",
    "portability": "eu-gdpr:A20",
    "objection": "eu-gdpr:A21",
    "withdraw-consent": "eu-gdpr:A7-3",
}
RECIPIENT_TYPES = {
    "processor": "dpv:DataProcessor",
    "controller": "dpv:DataController",
    "third-party": "dpv:ThirdParty",
    "public-authority": "dpv:Authority",
}


def _names(text: Text) -> list[dict[str, str]]:
    return [{"@value": text.nb, "@language": "nb"}, {"@value": text.en, "@language": "en"}]


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def _iris(values: list[str | None], fallback: str) -> list[dict[str, str]]:
    return [_ref(v or fallback) for v in dict.fromkeys(values)]


def _basis_parts(policy: Policy, activity: Activity) -> list[dict[str, Any]]:
    """The activity split by basis (``basis_for``): which subjects on which basis.

    One part for the subjects of each ``basis_for`` entry, on its basis (and, where
    it names the activity it is done under, that activity's controller and
    processor: the newsletter to Advokatforeningen's members is sent on its
    behalf), and one for the activity's own subjects on its own basis.
    """
    parts: list[dict[str, Any]] = [
        {
            "@id": f"{BASE}activity:{activity.id}:part:general",
            "@type": "dpv:PersonalDataHandling",
            "dpv:hasDataSubject": _iris(
                [policy.subject_category(s).dpv for s in activity.subjects], "dpv:DataSubject"
            ),
            "dpv:hasLegalBasis": _ref(BASIS_IRIS[activity.basis]),
        }
    ]
    for entry in activity.basis_for:
        part: dict[str, Any] = {
            "@id": f"{BASE}activity:{activity.id}:part:{'+'.join(entry.subjects)}",
            "@type": "dpv:PersonalDataHandling",
            "dpv:hasDataSubject": _iris(
                [policy.subject_category(s).dpv for s in entry.subjects], "dpv:DataSubject"
            ),
            "dpv:hasLegalBasis": _ref(BASIS_IRIS[entry.basis]),
        }
        under = policy.activity(entry.under) if entry.under else None
        if under is not None:
            part["dpv:hasName"] = _names(under.title)
            principal = _principal(policy, under) if under.role == "processor" else None
            if principal is not None:
                part["dpv:hasDataController"] = _ref(f"{BASE}principal:{principal.id}")
                part["dpv:hasDataProcessor"] = _ref(f"{BASE}controller")
        parts.append(part)
    return parts


def _activity_node(policy: Policy, activity: Activity) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"{BASE}activity:{activity.id}",
        "@type": "dpv:PersonalDataHandling",
        "dpv:hasName": _names(activity.title),
        "dpv:hasPurpose": _iris([p.dpv for p in activity.purposes], "dpv:Purpose"),
        # Every basis the activity rests on (R17: the newsletter's two), each one
        # scoped to its subjects in ``dpv:hasPersonalDataHandling`` below.
        "dpv:hasLegalBasis": (
            _ref(BASIS_IRIS[activity.basis]) if len(activity.bases) == 1
            else [_ref(BASIS_IRIS[b]) for b in activity.bases]
        ),
        "dpv:hasDataSubject": _iris(
            [
                policy.subject_category(s).dpv
                for s in [*activity.subjects, *(s for b in activity.basis_for for s in b.subjects)]
            ],
            "dpv:DataSubject",
        ),
        "dpv:hasPersonalData": _iris(
            [policy.data_category(c).dpv for c in activity.data_categories], "dpv:PersonalData"
        ),
        "dpv:hasDataSource": _ref(
            "dpv:ThirdPartyDataSource" if activity.source else "dpv:DataSubjectDataSource"
        ),
        "dpv:hasLocation": _ref("loc:EEA"),
    }
    if activity.basis_for:
        node["dpv:hasPersonalDataHandling"] = _basis_parts(policy, activity)
    if activity.national_law:
        node["dpv:hasApplicableLaw"] = {
            "@type": "dpv:Law",
            "dpv:hasName": activity.national_law,
            "dpv:hasJurisdiction": _ref("loc:NO"),
        }
    if activity.role == "processor":
        principal = _principal(policy, activity)
        node["dpv:hasDataProcessor"] = _ref(f"{BASE}controller")
        if principal:
            node["dpv:hasDataController"] = _ref(f"{BASE}principal:{principal.id}")
    else:
        node["dpv:hasDataController"] = _ref(f"{BASE}controller")
    recipients: list[dict[str, Any]] = []
    for recipient in activity.recipients:
        if recipient.processor:
            recipients.append(_ref(f"{BASE}processor:{recipient.processor}"))
        else:
            recipients.append(
                {
                    "@type": RECIPIENT_TYPES[recipient.kind],
                    "dpv:hasName": _names(recipient.name),
                    "dpv:hasCountry": _ref(f"loc:{recipient.country}"),
                }
            )
    if recipients:
        node["dpv:hasRecipient"] = recipients
    rules = policy.activity(activity.stored_under).retention if activity.stored_under else []
    rules = activity.retention or rules
    if rules:
        node["dpv:hasStorageCondition"] = [
            {
                "@type": "dpv:StorageDuration",
                "dpv:hasName": rule.id,
                "dpv:hasDuration": rule.keep.iso8601(),
                "dpv:hasProcessing": _ref(
                    "dpv:Anonymise" if rule.action == "anonymise" else "dpv:Erase"
                ),
            }
            for rule in rules
        ]
    return node


def ropa_jsonld(policy: Policy) -> dict[str, Any]:
    """The record as JSON-LD (DPV 2.3: dpv, pd, eu-gdpr, legal-no and loc terms only)."""
    controller = policy.controller
    graph: list[dict[str, Any]] = [
        {
            "@id": f"{BASE}controller",
            "@type": "dpv:DataController",
            "dpv:hasName": controller.name,
            "dpv:hasIdentifier": controller.org_no,
            "dpv:hasContact": controller.email,
            "dpv:hasAddress": ", ".join(controller.postal_address),
            "dpv:hasCountry": _ref(f"loc:{controller.country}"),
            "dpv:hasAuthority": _ref("legal-no:DPA-NO"),
        }
    ]
    for principal in policy.principals:
        node: dict[str, Any] = {
            "@id": f"{BASE}principal:{principal.id}",
            "@type": "dpv:DataController",
            "dpv:hasName": principal.name,
            "dpv:hasCountry": _ref(f"loc:{principal.country}"),
        }
        if principal.email:
            node["dpv:hasContact"] = principal.email
        if principal.postal_address:
            node["dpv:hasAddress"] = ", ".join(principal.postal_address)
        graph.append(node)
    for processor in policy.processors:
        node = {
            "@id": f"{BASE}processor:{processor.id}",
            "@type": "dpv:DataProcessor",
            "dpv:hasName": processor.name_in("en"),
            "dpv:hasCountry": _ref(f"loc:{processor.country}"),
            "dpv:hasLocation": [_ref(f"loc:{c}") for c in processor.storage],
            "dpv:hasOrganisationalMeasure": {
                "@type": "dpv:DataProcessingAgreement",
                "dpv:hasName": f"DPA {processor.dpa_date.isoformat()}",
            },
        }
        if processor.transfer_mechanism:
            node["dpv:hasLegalBasis"] = _ref(TRANSFER_MECHANISMS[processor.transfer_mechanism])
        graph.append(node)
    graph.append(
        {
            "@id": f"{BASE}ropa:controller",
            "@type": "dpv:ROPA",
            "dpv:hasName": "Art. 30(1) record of processing activities (controller)",
            "dpv:hasDataController": _ref(f"{BASE}controller"),
            "dpv:hasRight": [_ref(RIGHT_IRIS[r.id]) for r in policy.rights.rights]
            + [_ref("eu-gdpr:A77")],
            "dpv:hasTechnicalOrganisationalMeasure": _iris(
                [m.dpv for m in policy.security_measures], "dpv:TechnicalOrganisationalMeasure"
            ),
            "dpv:hasPersonalDataHandling": [
                _ref(f"{BASE}activity:{a.id}") for a in policy.controller_activities
            ],
        }
    )
    if policy.processor_activities:
        graph.append(
            {
                "@id": f"{BASE}ropa:processor",
                "@type": "dpv:ROPA",
                "dpv:hasName": "Art. 30(2) record of processing activities (processor)",
                "dpv:hasDataProcessor": _ref(f"{BASE}controller"),
                "dpv:hasTechnicalOrganisationalMeasure": _iris(
                    [m.dpv for m in policy.security_measures],
                    "dpv:TechnicalOrganisationalMeasure",
                ),
                "dpv:hasPersonalDataHandling": [
                    _ref(f"{BASE}activity:{a.id}") for a in policy.processor_activities
                ],
            }
        )
    graph.extend(_activity_node(policy, a) for a in policy.activities)
    return {"@context": dict(DPV_PREFIXES), "@graph": graph}
