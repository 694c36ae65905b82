"""Render the privacy notice and the cookie policy from the policy, in nb or en.

The policy file supplies the texts about the processing (in both languages);
headings and the sentences that carry facts (durations, addresses, dates) come
from this app's templates and gettext catalogue. Everything is rendered under
``translation.override(lang)`` so one process can render both languages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, translation

from . import labels
from .models import Activity, Policy, Processor, RetentionRule, normalise_lang
from .vocab import EU_EEA, country_name

Format = Literal["html", "md"]
COOKIE_PAGE_FALLBACK = "/privacy/cookies/"
NOTICE_PAGE_FALLBACK = "/privacy/"


def format_date(value: dt.date, lang: str) -> str:
    """A date as people write it: ``5. april 2022`` or ``5 April 2022``."""
    with translation.override(lang):
        return formats.date_format(value, "j. F Y" if lang == "nb" else "j F Y")


def retention_sentence(rule: RetentionRule, lang: str) -> str:
    """One rule as a sentence: "Kept for 5 years after the course has ended, then deleted."."""
    with translation.override(lang):
        if rule.keep.approx_days == 0:
            template = (
                labels.KEPT_UNTIL_ANONYMISE
                if rule.action == "anonymise"
                else labels.KEPT_UNTIL_DELETE
            )
            return str(template) % {"until": labels.ANCHOR_UNTIL[rule.after]}
        template = (
            labels.KEPT_FOR_ANONYMISE if rule.action == "anonymise" else labels.KEPT_FOR_DELETE
        )
        return str(template) % {
            "duration": rule.keep.describe(lang),
            "after": labels.ANCHOR_AFTER[rule.after],
        }


def retention_lines(activity: Activity, lang: str) -> list[dict[str, str]]:
    """The activity's rules as (label, sentence, note); cohort rules first.

    A rule without cohort covers the rows in none of the other rules' cohorts,
    so when cohorts exist it is labelled "Everyone else".
    """
    has_cohorts = bool(activity.cohorts)
    lines: list[dict[str, str]] = []
    ordered = sorted(activity.retention, key=lambda r: r.cohort is None)
    with translation.override(lang):
        for rule in ordered:
            if rule.cohort:
                label = str(labels.COHORT_LABELS[rule.cohort])
            else:
                label = str(labels.EVERYONE_ELSE) if has_cohorts else ""
            lines.append(
                {
                    "id": rule.id,
                    "label": label,
                    "text": retention_sentence(rule, lang),
                    "note": rule.note.get(lang) if rule.note else "",
                }
            )
    return lines


def basis_text(policy: Policy, activity: Activity, lang: str) -> str:
    """The activity's legal basis in words, with the basis of any subjects processed
    on another (``basis_for``: the newsletter's members of Advokatforeningen, R17).

    Call it under ``translation.override(lang)`` (the labels are gettext's)."""
    text = str(labels.BASIS_LABELS[activity.basis])
    for entry in activity.basis_for:
        names = ", ".join(policy.subject_category(s).name.get(lang) for s in entry.subjects)
        text += f"; {names}: {labels.BASIS_LABELS[entry.basis]}"
    return text


def _activity_context(policy: Policy, activity: Activity, lang: str) -> dict[str, Any]:
    def data_name(category_id: str) -> str:
        return policy.data_category(category_id).name.get(lang)

    recipients = [
        {
            "name": r.name.get(lang),
            "kind": str(labels.RECIPIENT_KINDS[r.kind]),
            "condition": r.condition.get(lang) if r.condition else "",
            "data": [data_name(c) for c in r.data_categories],
        }
        for r in activity.recipients
    ]
    principal = None
    if activity.on_behalf_of:
        principal = next(
            (p for p in policy.principals if activity.on_behalf_of in (p.id, p.name)), None
        )
    return {
        "id": activity.id,
        "title": activity.title.get(lang),
        "description": activity.description.get(lang),
        "purposes": [p.get(lang) for p in activity.purposes],
        "basis": basis_text(policy, activity, lang),
        "basis_note": activity.basis_note.get(lang) if activity.basis_note else "",
        "national_law": activity.national_law or "",
        "subjects": [policy.subject_category(s).name.get(lang) for s in activity.subjects],
        "data": [data_name(c) for c in activity.data_categories],
        "recipients": recipients,
        "source": activity.source.get(lang) if activity.source else "",
        "stores_data": activity.stores_data,
        "stored_under": (
            policy.activity(activity.stored_under).title.get(lang) if activity.stored_under else ""
        ),
        "retention": retention_lines(activity, lang),
        "role": activity.role,
        "on_behalf_of": principal.name if principal else (activity.on_behalf_of or ""),
        "portable": activity.portable,
        "objection_applies": activity.objection_applies,
    }


def _processor_context(processor: Processor, lang: str) -> dict[str, Any]:
    """A processor as the notice lists it; one outside the EU/EEA with where and why.

    The policy check refuses such a processor when the notice promises EU/EEA-only
    processing, and otherwise requires its transfer mechanism, so ``mechanism`` is
    set whenever ``outside`` is.
    """
    outside = [
        code for code in dict.fromkeys([processor.country, *processor.storage])
        if code not in EU_EEA
    ]
    mechanism = processor.transfer_mechanism
    return {
        "name": processor.name_in(lang),
        "service": processor.service.get(lang),
        "country": country_name(processor.country, lang),
        "storage": [country_name(c, lang) for c in processor.storage],
        "outside": ", ".join(country_name(c, lang) for c in outside),
        "mechanism": (
            str(labels.TRANSFER_MECHANISM_LABELS.get(mechanism, mechanism)) if mechanism else ""
        ),
    }


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:  # the URLs are not wired (CLI rendering, a bare settings file)
        return fallback


def notice_context(policy: Policy, lang: str) -> dict[str, Any]:
    """Everything the notice templates show, already in ``lang``."""
    lang = normalise_lang(lang)
    with translation.override(lang):
        controller = policy.controller
        rights = policy.rights
        authority = policy.supervisory_authority
        activities = [_activity_context(policy, a, lang) for a in policy.activities]
        processors = [_processor_context(p, lang) for p in policy.processors]
        return {
            "lang": lang,
            "controller": {
                "name": controller.name,
                "short_name": controller.short_name or controller.name,
                "org_no": controller.org_no,
                "site": controller.site_name or controller.website or controller.name,
                "website": controller.website or "",
                "email": controller.email,
                "marker": controller.privacy_marker,
                "postal_address": controller.postal_address,
                "description": controller.description.get(lang) if controller.description else "",
            },
            "intro": policy.notice.intro.get(lang),
            "processor_role": (
                policy.notice.processor_role.get(lang) if policy.notice.processor_role else ""
            ),
            "location": policy.notice.location.get(lang),
            "contact": policy.notice.contact.get(lang),
            "activities": [a for a in activities if a["role"] == "controller"],
            "processor_activities": [a for a in activities if a["role"] == "processor"],
            "processors": processors,
            "processors_outside": [p for p in processors if p["outside"]],
            "security": [m.get(lang) for m in policy.security_measures],
            "rights": {
                "response_time": rights.response_time.describe(lang),
                "max_extension": rights.max_extension.describe(lang),
                "channels": [str(labels.CHANNELS[c]) for c in rights.channels],
                "by_email": "email" in rights.channels,
                "by_post": "post" in rights.channels,
                "marker": rights.marker,
                "how_to": rights.how_to.get(lang),
                "list": [
                    {
                        "id": r.id,
                        "title": r.title.get(lang),
                        "text": r.text.get(lang),
                        "article": r.article,
                    }
                    for r in rights.rights
                ],
                "portable": [a["title"] for a in activities if a["portable"]],
                "objection": [a["title"] for a in activities if a["objection_applies"]],
            },
            "authority": {
                "name": authority.name.get(lang),
                "postal_address": authority.postal_address,
                "complaint_url": authority.complaint_url,
            },
            "version": policy.version,
            "last_updated": format_date(policy.last_updated, lang),
            "last_updated_iso": policy.last_updated.isoformat(),
            "changelog": [
                {
                    "version": entry.version,
                    "date": format_date(entry.date, lang),
                    "date_iso": entry.date.isoformat(),
                    "summary": entry.summary.get(lang),
                }
                for entry in sorted(policy.changelog, key=lambda e: e.date, reverse=True)
            ],
            "cookie_url": _url("policy:cookies", COOKIE_PAGE_FALLBACK),
            "notice_url": _url("policy:notice", NOTICE_PAGE_FALLBACK),
        }


def cookie_context(policy: Policy, lang: str) -> dict[str, Any]:
    """Everything the cookie policy templates show, already in ``lang``."""
    context = notice_context(policy, lang)
    lang = context["lang"]
    with translation.override(lang):
        context["cookie_intro"] = policy.cookie_policy.intro.get(lang)
        context["cookie_consent"] = policy.cookie_policy.consent.get(lang)
        context["cookies"] = [
            {
                "name": c.name,
                "provider": c.provider,
                "category": str(labels.COOKIE_CATEGORIES[c.category]),
                "category_id": c.category,
                "purpose": c.purpose.get(lang),
                "lifetime": c.describe_lifetime(lang),
                "consent_required": c.consent_required,
            }
            for c in policy.cookies
        ]
    return context


def _render(template: str, context: dict[str, Any], fmt: Format) -> str:
    if fmt not in ("html", "md"):
        raise ValueError(f"unknown format {fmt!r}: use 'html' or 'md'")
    with translation.override(context["lang"]):
        return render_to_string(f"policy/{template}.{fmt}", context)


def render_notice(
    policy: Policy, lang: str, fmt: Format = "html", *, standalone: bool = True
) -> str:
    """The privacy notice in ``lang`` as a full HTML page, an HTML fragment or Markdown."""
    context = notice_context(policy, lang)
    context["standalone"] = standalone
    return _render("notice", context, fmt)


def render_cookie_policy(
    policy: Policy, lang: str, fmt: Format = "html", *, standalone: bool = True
) -> str:
    """The cookie policy (a page of its own) in ``lang``."""
    context = cookie_context(policy, lang)
    context["standalone"] = standalone
    return _render("cookies", context, fmt)
