"""Access (Art. 15): the report, the readable page and the bundle."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.core.exports import spreadsheet_cell
from personvern.core.models import Person
from personvern.core.policy import current_policy
from personvern.core.registry import person_basis, person_holders
from personvern.rights.engine.files import exports_dir, write_private
from personvern.rights.engine.rows import (
    IDENTITY,
    HolderSection,
    ReportContext,
    holder_report_section,
)

if TYPE_CHECKING:
    from personvern.policy import Activity, Policy
    from personvern.rights.models import Request


#: Field name that marks a holder's rows as recorded disclosures (Art. 15(1)(c)).
RECIPIENT_FIELD = "recipient"

IDENTITY_TITLE = _("Your identity and contact details")
IDENTITY_PURPOSE = _(
    "To know who you are across our activities, to contact you, and to honour your "
    "consents, objections and restrictions."
)
IDENTITY_RETENTION = _("As long as we hold any other data about you.")
NO_AUTOMATED_DECISIONS = _(
    "We make no decisions based solely on automated processing, including profiling, "
    "that have legal or similarly significant effects for you (Art. 22)."
)

#: Human labels of the policy's retention anchors (the vocabulary has no labels).
ANCHOR_LABELS: dict[str, Any] = {
    "course-end": _("after the course ends"),
    "customer-relationship-end": _("after the customer relationship ends"),
    "received": _("after it was received"),
    "recruitment-closed": _("after the recruitment is closed"),
    "employment-end": _("after the employment ends"),
    "competition-end": _("after the competition ends"),
    "fiscal-year-end": _("after the end of the fiscal year"),
    "withdrawn": _("after consent is withdrawn"),
    "last-contact": _("after our last contact with you"),
    "sent": _("after it was sent"),
    "membership-end": _("after the membership ends"),
    "inquiry-closed": _("after the inquiry was closed"),
    "agreed-term-end": _("after the term agreed with the organisation runs out"),
}


@dataclass
class ActivityInfo:
    """What Art. 15(1) and (2) require us to say about one activity."""

    id: str
    title: str
    description: str
    purposes: list[str]
    basis: str
    basis_note: str
    data_categories: list[str]
    recipients: list[dict[str, str]]
    retention: list[str]
    source: str
    sections: list[HolderSection] = field(default_factory=list)
    disclosures: list[dict[str, str]] = field(default_factory=list)
    #: The record that proves this person's basis, where it differs per person (R17).
    basis_evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class AccessReport:
    """A person's access report (Art. 15), built from the registry and the policy.

    ``data`` is the machine-readable part, grouped by activity:
    ``{activity id: {holder label: [row, …]}}`` (``identity`` for the person's
    identity records).
    """

    person_id: str
    generated_at: datetime
    lang: str
    data: dict[str, dict[str, list[dict[str, Any]]]]
    activities: list[ActivityInfo]
    controller: dict[str, Any]
    authority: dict[str, Any]
    rights: list[dict[str, str]]
    automated_decisions: str
    policy_version: str

    @property
    def sections(self) -> list[HolderSection]:
        return [s for a in self.activities for s in a.sections]

    def as_json(self) -> dict[str, Any]:
        """The content of data.json."""
        return {
            "person": self.person_id,
            "generated_at": self.generated_at.isoformat(),
            "policy_version": self.policy_version,
            "data": self.data,
            "processing": [
                {
                    "activity": a.id,
                    "title": a.title,
                    "purposes": a.purposes,
                    "legal_basis": a.basis,
                    **({"legal_basis_note": a.basis_note} if a.basis_note else {}),
                    **({"basis_evidence": a.basis_evidence} if a.basis_evidence else {}),
                    "data_categories": a.data_categories,
                    "recipients": a.recipients,
                    "recorded_disclosures": a.disclosures,
                    "retention": a.retention,
                    "source": a.source,
                }
                for a in self.activities
            ],
            "rights": self.rights,
            "supervisory_authority": self.authority,
            "automated_decisions": self.automated_decisions,
        }


_BASIS_LABELS = {
    "a": _("consent (GDPR Art. 6(1)(a))"),
    "b": _("contract (GDPR Art. 6(1)(b))"),
    "c": _("legal obligation (GDPR Art. 6(1)(c))"),
    "d": _("vital interests (GDPR Art. 6(1)(d))"),
    "e": _("public task (GDPR Art. 6(1)(e))"),
    "f": _("legitimate interests (GDPR Art. 6(1)(f))"),
}


#: The policy's texts of an activity in a language, by (policy, activity, language); the
#: policy is kept beside them, so a new policy in force is never served stale texts.
_ACTIVITY_TEXTS: dict[tuple[int, str, str], tuple[Policy, ActivityInfo]] = {}


def _activity_info(policy: Policy, activity: Activity, lang: str) -> ActivityInfo:
    """The activity's texts for the report: put together once per policy and language,
    then copied (the caller adds the person's sections and may change the basis)."""
    key = (id(policy), activity.id, lang)
    found = _ACTIVITY_TEXTS.get(key)
    if found is None or found[0] is not policy:
        found = (policy, _activity_texts(policy, activity, lang))
        _ACTIVITY_TEXTS[key] = found
    template = found[1]
    return replace(
        template,
        purposes=list(template.purposes),
        data_categories=list(template.data_categories),
        recipients=[dict(r) for r in template.recipients],
        retention=list(template.retention),
    )


def _activity_texts(policy: Policy, activity: Activity, lang: str) -> ActivityInfo:
    def category(cat_id: str) -> str:
        try:
            return policy.data_category(cat_id).name.get(lang)
        except KeyError:
            return cat_id

    retention = []
    for rule in activity.retention:
        text = f"{rule.keep.describe(lang)} {ANCHOR_LABELS.get(rule.after, rule.after)}"
        if rule.note is not None:
            text = f"{text} ({rule.note.get(lang)})"
        retention.append(text)
    basis = str(_BASIS_LABELS[activity.basis])
    if activity.national_law:
        basis = f"{basis}; {activity.national_law}"
    return ActivityInfo(
        id=activity.id,
        title=activity.title.get(lang),
        description=activity.description.get(lang),
        purposes=[p.get(lang) for p in activity.purposes],
        basis=basis,
        basis_note=activity.basis_note.get(lang) if activity.basis_note else "",
        data_categories=[category(c) for c in activity.data_categories],
        recipients=[
            {
                "name": r.name.get(lang),
                "kind": r.kind,
                "condition": r.condition.get(lang) if r.condition else "",
                "country": r.country,
            }
            for r in activity.recipients
        ],
        retention=retention,
        source=activity.source.get(lang) if activity.source else "",
    )


def _disclosures(sections: Iterable[HolderSection]) -> list[dict[str, str]]:
    """Rows of holders that record a hand-over (a ``recipient`` field): the recipients
    the person's data was actually disclosed to (R11 hotel transfers)."""
    found: list[dict[str, str]] = []
    for section in sections:
        names = [name for name, _label in section.fields]
        if RECIPIENT_FIELD not in names:
            continue
        at = names.index(RECIPIENT_FIELD)
        for shown in section.display_rows:
            details = "; ".join(
                f"{label}: {value}"
                for (name, label), value in zip(section.fields, shown, strict=True)
                if name != RECIPIENT_FIELD and value
            )
            found.append({"recipient": shown[at], "holder": section.name, "details": details})
    return found


def access_report(person: Person, *, lang: str = "nb", now: datetime | None = None) -> AccessReport:
    """Everything Art. 15 lists about ``person``, generated from registry and policy."""
    now = now or timezone.now()
    policy = current_policy()
    with translation.override(lang):
        by_activity: dict[str, list[HolderSection]] = {}
        context = ReportContext()
        with connection.cursor() as cursor:
            for holder in person_holders():
                section = holder_report_section(holder, person.pk, cursor, context)
                if section is not None:
                    by_activity.setdefault(holder.activity or IDENTITY, []).append(section)

        activities: list[ActivityInfo] = []
        if IDENTITY in by_activity:
            activities.append(
                ActivityInfo(
                    id=IDENTITY,
                    title=str(IDENTITY_TITLE),
                    description="",
                    purposes=[str(IDENTITY_PURPOSE)],
                    basis="",
                    basis_note="",
                    data_categories=[],
                    recipients=[],
                    retention=[str(IDENTITY_RETENTION)],
                    source="",
                    sections=by_activity[IDENTITY],
                )
            )
        for activity in policy.activities:
            if activity.id not in by_activity:
                continue
            info = _activity_info(policy, activity, lang)
            # Where the basis differs person by person (the newsletter, R17), the
            # report states this person's, with the record that proves it.
            own = person_basis(activity.id, person.pk, now)
            if own is not None:
                info.basis = str(_BASIS_LABELS[own.basis])
                info.basis_note = own.note
                info.basis_evidence = dict(own.evidence)
            info.sections = by_activity[activity.id]
            info.disclosures = _disclosures(info.sections)
            activities.append(info)

        authority = policy.supervisory_authority
        controller = policy.controller
        rights = [
            {"id": r.id, "article": r.article, "title": r.title.get(lang), "text": r.text.get(lang)}
            for r in policy.rights.rights
        ]
        return AccessReport(
            person_id=str(person.public_id),
            generated_at=now,
            lang=lang,
            data={a.id: {s.label: s.rows for s in a.sections} for a in activities},
            activities=activities,
            controller={
                "name": controller.name,
                "org_no": controller.org_no,
                "email": controller.email,
                "postal_address": list(controller.postal_address),
            },
            authority={
                "name": authority.name.get(lang),
                "postal_address": list(authority.postal_address),
                "complaint_url": authority.complaint_url,
            },
            rights=rights,
            automated_decisions=str(NO_AUTOMATED_DECISIONS),
            policy_version=policy.version,
        )


def access_report_html(report: AccessReport) -> str:
    """The readable report (report.html) in the report's language."""
    with translation.override(report.lang):
        return render_to_string("rights/report.html", {"report": report})


def _csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text (see :mod:`personvern.core.exports`).

    The person's own data may contain anything (a name typed as ``=HYPERLINK(…)``);
    data.json keeps the values unchanged.
    """
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return spreadsheet_cell(value)


def _csv_bytes(section: HolderSection) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_cell(name) for name, _label in section.fields])
    for row in section.rows:
        writer.writerow([_csv_cell(v) for v in row.values()])
    # A BOM so spreadsheet programs read the UTF-8 correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def access_bundle(person: Person, *, lang: str = "nb", now: datetime | None = None) -> bytes:
    """The access bundle: data.json, one CSV per holder with rows, and report.html."""
    report = access_report(person, lang=lang, now=now)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(
            "data.json", json.dumps(report.as_json(), ensure_ascii=False, indent=2).encode()
        )
        for section in report.sections:
            bundle.writestr(f"{section.label}.csv", _csv_bytes(section))
        bundle.writestr("report.html", access_report_html(report).encode())
    return buffer.getvalue()


def access_bundle_write(
    person: Person, *, request: Request, lang: str = "nb", now: datetime | None = None
) -> Path:
    """Write the access bundle to ``DATA_DIR/exports/<person>/access-<request>.zip``."""
    content = access_bundle(person, lang=lang, now=now)
    return write_private(exports_dir(person) / f"access-{request.public_id}.zip", content)
