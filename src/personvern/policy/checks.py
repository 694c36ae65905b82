"""Rules that look across entries of the policy file.

They run on the raw TOML data (not the validated models) so that they still
run when some entry has a type error: the operator sees every problem at once.
Each finding is ``(location, message, severity)``; the loader turns the location
into a line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from .duration import Duration, DurationError
from .vocab import EU_EEA, TRANSFER_MECHANISMS, is_dpv_term

Loc = tuple[str | int, ...]
Severity = Literal["error", "warning"]
Finding = tuple[Loc, str, Severity]
LineOf = Callable[[Loc], "int | None"]


def _error(loc: Loc, message: str) -> Finding:
    return loc, message, "error"


def _warning(loc: Loc, message: str) -> Finding:
    return loc, message, "warning"


def _entries(raw: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The well-formed (table) entries of an array of tables, with their index."""
    value = raw.get(key)
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, dict):
                yield index, entry


def _strings(value: Any) -> Iterator[tuple[int, str]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield index, item


def _duplicates(
    entries: Sequence[tuple[Loc, Any]], what: str, line_of: LineOf
) -> Iterator[Finding]:
    """Report every repeated value; the message points at the first occurrence."""
    seen: dict[Any, Loc] = {}
    for loc, value in entries:
        if not isinstance(value, str):
            continue
        if value in seen:
            first = seen[value]
            line = line_of(first)
            where = f"line {line}" if line else "an earlier entry"
            yield _error(loc, f"duplicate {what} {value!r} (already declared at {where})")
        else:
            seen[value] = loc


def _dpv(loc: Loc, value: Any, prefixes: tuple[str, ...]) -> Iterator[Finding]:
    if value is None:
        return
    if not isinstance(value, str) or not value.startswith(tuple(f"{p}:" for p in prefixes)):
        yield _error(
            loc, f"DPV term {value!r} must be a compact IRI starting with {' or '.join(prefixes)}:"
        )
    elif not is_dpv_term(value):
        yield _error(loc, f"{value!r} is not a term of the W3C DPV 2.3 vocabulary")


def _ids(raw: dict[str, Any], key: str, field: str = "id") -> set[str]:
    return {e[field] for _, e in _entries(raw, key) if isinstance(e.get(field), str)}


def _duration(value: Any) -> Duration | None:
    try:
        return Duration(value) if isinstance(value, str) else None
    except DurationError:
        return None


def _check_duplicates(raw: dict[str, Any], line_of: LineOf) -> Iterator[Finding]:
    for key, field, what in (
        ("activity", "id", "activity id"),
        ("processor", "id", "processor id"),
        ("cookie", "name", "cookie name"),
        ("principal", "id", "principal id"),
        ("subject_category", "id", "subject category id"),
        ("data_category", "id", "data category id"),
    ):
        yield from _duplicates(
            [((key, i, field), e.get(field)) for i, e in _entries(raw, key)], what, line_of
        )
    for index, activity in _entries(raw, "activity"):
        rules = [
            (("activity", index, "retention", j, "id"), rule.get("id"))
            for j, rule in _entries(activity, "retention")
        ]
        yield from _duplicates(
            rules, f"retention rule id in activity {activity.get('id')!r}:", line_of
        )
    rights = raw.get("rights")
    if isinstance(rights, dict):
        yield from _duplicates(
            [(("rights", "right", i, "id"), e.get("id")) for i, e in _entries(rights, "right")],
            "right",
            line_of,
        )


def _check_activity(raw: dict[str, Any], index: int, activity: dict[str, Any]) -> Iterator[Finding]:
    here: Loc = ("activity", index)
    name = activity.get("id", f"#{index}")
    subjects, data = _ids(raw, "subject_category"), _ids(raw, "data_category")
    processors = _ids(raw, "processor")
    principals = _ids(raw, "principal") | _ids(raw, "principal", "name")
    own_data = {s for _, s in _strings(activity.get("data_categories"))}

    for k, subject in _strings(activity.get("subjects")):
        if subject not in subjects:
            yield _error(
                (*here, "subjects", k),
                f"unknown subject category {subject!r} (declare it as a [[subject_category]])",
            )
    for b, entry in _entries(activity, "basis_for"):
        for k, subject in _strings(entry.get("subjects")):
            if subject not in subjects:
                yield _error(
                    (*here, "basis_for", b, "subjects", k),
                    f"unknown subject category {subject!r} (declare it as a [[subject_category]])",
                )
        if entry.get("basis") == activity.get("basis"):
            yield _error(
                (*here, "basis_for", b, "basis"),
                f"basis_for repeats activity {name!r}'s own basis: "
                "name only the subjects processed on another basis",
            )
        under = entry.get("under")
        if under is not None:
            found = next((a for _, a in _entries(raw, "activity") if a.get("id") == under), None)
            if found is None or under == name:
                yield _error(
                    (*here, "basis_for", b, "under"), f"basis_for names unknown activity {under!r}"
                )
            elif found.get("basis") != entry.get("basis"):
                yield _error(
                    (*here, "basis_for", b, "basis"),
                    f"basis_for says basis {entry.get('basis')!r} under activity {under!r}, "
                    f"whose basis is {found.get('basis')!r}",
                )
    for k, category in _strings(activity.get("data_categories")):
        if category not in data:
            yield _error(
                (*here, "data_categories", k),
                f"unknown data category {category!r} (declare it as a [[data_category]])",
            )
    for k, purpose in _entries(activity, "purposes"):
        yield from _dpv((*here, "purposes", k, "dpv"), purpose.get("dpv"), ("dpv",))

    role = activity.get("role", "controller")
    behalf = activity.get("on_behalf_of")
    if role == "processor" and not behalf:
        yield _error(
            (*here, "role"),
            f"activity {name!r} is done as processor but names no controller in on_behalf_of",
        )
    if role == "controller" and behalf:
        yield _error(
            (*here, "on_behalf_of"),
            f"activity {name!r} is done as controller: "
            'on_behalf_of only applies to role = "processor"',
        )
    if isinstance(behalf, str) and behalf not in principals:
        yield _error(
            (*here, "on_behalf_of"),
            f"on_behalf_of names {behalf!r}, which no [[principal]] declares",
        )

    for r, recipient in _entries(activity, "recipients"):
        processor = recipient.get("processor")
        if isinstance(processor, str) and processor not in processors:
            yield _error(
                (*here, "recipients", r, "processor"),
                f"unknown processor {processor!r} (declare it as a [[processor]])",
            )
        if recipient.get("kind") == "processor" and not processor:
            yield _error(
                (*here, "recipients", r, "kind"),
                'a recipient of kind "processor" must name its [[processor]] entry in processor',
            )
        for k, category in _strings(recipient.get("data_categories")):
            if category not in own_data:
                yield _error(
                    (*here, "recipients", r, "data_categories", k),
                    f"recipient gets data category {category!r}, "
                    f"which activity {name!r} does not process",
                )
        country = recipient.get("country")
        if isinstance(country, str) and country not in EU_EEA:
            yield _error(
                (*here, "recipients", r, "country"),
                f"recipient in {country}, outside the EU/EEA: "
                "a transfer to a third country must be declared and justified",
            )

    rules = list(_entries(activity, "retention"))
    stores = activity.get("stores_data", True)
    if stores is True and not rules:
        yield _error(here, f"activity {name!r} stores personal data but has no retention rule")
    if stores is False and rules:
        yield _error(
            (*here, "stores_data"),
            f"activity {name!r} declares stores_data = false but has retention rules",
        )
    stored_under = activity.get("stored_under")
    if stored_under is not None:
        if stores is not False:
            yield _error(
                (*here, "stored_under"),
                "stored_under names the activity whose rows hold this data, "
                "so it requires stores_data = false",
            )
        if stored_under not in _ids(raw, "activity") or stored_under == name:
            yield _error(
                (*here, "stored_under"), f"stored_under names unknown activity {stored_under!r}"
            )
    seen: set[tuple[Any, Any]] = set()
    for j, rule in rules:
        key = (rule.get("cohort"), rule.get("after"))
        if key in seen:
            yield _error(
                (*here, "retention", j),
                f"two retention rules of activity {name!r} "
                f"cover the same cohort and anchor {key!r}",
            )
        seen.add(key)


#: Where the notice's texts speak of the EU/EEA (in English or Norwegian).
_EU_EEA_WORDS = re.compile(
    r"EU\s*/\s*E(EA|ØS)|\bE(EA|ØS)\b|European Economic Area|økonomiske samarbeidsområde",
    re.IGNORECASE,
)
PROMISE: Loc = ("notice", "processors_eu_eea_only")


def _promises_eu_eea_only(raw: dict[str, Any]) -> bool:
    notice = raw.get("notice")
    return isinstance(notice, dict) and notice.get("processors_eu_eea_only") is True


def _outside_eu_eea(processor: dict[str, Any]) -> list[str]:
    """The valid country codes outside the EU/EEA where the processor works or stores data."""
    places = [processor.get("country"), *(code for _, code in _strings(processor.get("storage")))]
    return [
        code
        for code in places
        if isinstance(code, str) and code not in EU_EEA and is_dpv_term(f"loc:{code}")
    ]


def _check_processor(
    index: int, processor: dict[str, Any], as_of: dt.date, *, promise: str | None
) -> Iterator[Finding]:
    """One processor's entry; ``promise`` says where the EU/EEA-only promise is (or None)."""
    here: Loc = ("processor", index)
    name = processor.get("name", processor.get("id", f"#{index}"))
    if isinstance(name, dict):  # a description per language: name it in English
        name = name.get("en") or processor.get("id", f"#{index}")
    mechanism = processor.get("transfer_mechanism")
    if mechanism is not None and mechanism not in TRANSFER_MECHANISMS:
        yield _error(
            (*here, "transfer_mechanism"),
            f"unknown transfer mechanism {mechanism!r}; "
            f"known: {', '.join(sorted(TRANSFER_MECHANISMS))}",
        )
    places: list[tuple[Loc, Any, str]] = [
        ((*here, "country"), processor.get("country"), "works from")
    ]
    places += [
        ((*here, "storage", k), code, "stores data in")
        for k, code in _strings(processor.get("storage"))
    ]
    for loc, code, verb in places:
        if not isinstance(code, str):
            continue
        if not is_dpv_term(f"loc:{code}"):
            yield _error(loc, f"{code!r} is not a known ISO 3166 country code")
        elif code not in EU_EEA:
            if promise is not None:
                yield _error(
                    loc,
                    f"processor {name!r} {verb} {code}, outside the EU/EEA, but the notice "
                    f"promises that every processor works and stores data in the EU/EEA "
                    f"({promise}); a transfer_mechanism does not keep that promise: choose a "
                    "processor in the EU/EEA, or drop the promise so that the notice names "
                    "the transfer",
                )
            elif not mechanism:
                yield _error(
                    loc,
                    f"processor {name!r} {verb} {code}, outside the EU/EEA, and declares no "
                    "transfer_mechanism (GDPR chapter V)",
                )

    interval = _duration(processor.get("audit_interval"))
    start = processor.get("last_audit") or processor.get("dpa_date")
    if interval and isinstance(start, dt.date):
        due = interval.add_to(start)
        if due < as_of:
            if processor.get("last_audit"):
                field, since = "last_audit", f"last audited {start.isoformat()}"
            else:
                field, since = "dpa_date", f"never audited since the DPA of {start.isoformat()}"
            yield _warning(
                (*here, field),
                f"the audit of processor {name!r} is overdue: {since}, audits every "
                f"{interval}, so one was due {due.isoformat()} (checked as of {as_of.isoformat()})",
            )
    if processor.get("placeholder") is True:
        yield _warning(
            (*here, "placeholder"),
            f"processor {name!r} is marked as a placeholder: "
            "verify its name, locations and DPA date",
        )


def _check_eu_eea_texts(raw: dict[str, Any]) -> Iterator[Finding]:
    """Without the EU/EEA-only promise, no text may claim it while a processor is outside.

    The notice then lists each processor outside the EU/EEA with its country and
    transfer mechanism itself; a free text (or a processor's name) that speaks of
    the EU/EEA would contradict that list.
    """
    if _promises_eu_eea_only(raw):
        return
    outside = [
        (index, processor, codes)
        for index, processor in _entries(raw, "processor")
        if (codes := _outside_eu_eea(processor))
    ]
    if not outside:
        return
    first_index, first, codes = outside[0]
    name = first.get("name", first.get("id", f"#{first_index}"))
    who = f"processor {name!r} ({', '.join(codes)})"
    notice = raw.get("notice")
    texts: list[tuple[Loc, Any]] = []
    if isinstance(notice, dict):
        for key, value in notice.items():
            if isinstance(value, dict):
                texts += [(("notice", key, lang), text) for lang, text in value.items()]
            else:
                texts.append((("notice", key), value))
    for index, processor, _codes in outside:
        name = processor.get("name")
        if isinstance(name, dict):
            texts += [(("processor", index, "name", lang), t) for lang, t in name.items()]
        else:
            texts.append((("processor", index, "name"), name))
        service = processor.get("service")
        if isinstance(service, dict):
            texts += [(("processor", index, "service", lang), t) for lang, t in service.items()]
    for loc, text in texts:
        if isinstance(text, str) and _EU_EEA_WORDS.search(text):
            yield _error(
                loc,
                f"this text speaks of the EU/EEA, but {who} works or stores data outside it: "
                "the notice lists such processors with their country and transfer mechanism, "
                "so take the EU/EEA out of this text (or keep every processor in the EU/EEA "
                "and set notice.processors_eu_eea_only = true)",
            )


def _check_cookies(raw: dict[str, Any]) -> Iterator[Finding]:
    activities = {e.get("id"): e for _, e in _entries(raw, "activity")}
    for index, cookie in _entries(raw, "cookie"):
        here: Loc = ("cookie", index)
        if (
            cookie.get("category") in ("analytics", "preferences")
            and cookie.get("consent_required") is False
        ):
            yield _error(
                (*here, "consent_required"),
                f"cookie {cookie.get('name')!r} is not strictly necessary and must require consent",
            )
        activity_id = cookie.get("activity")
        if activity_id is None:
            continue
        activity = activities.get(activity_id)
        if activity is None:
            yield _error((*here, "activity"), f"unknown activity {activity_id!r}")
        elif cookie.get("consent_required") is True and activity.get("basis") != "a":
            yield _error(
                (*here, "activity"),
                f"cookie {cookie.get('name')!r} needs consent but activity {activity_id!r} "
                "is not based on consent (Art. 6(1)(a))",
            )


def _check_versions(raw: dict[str, Any]) -> Iterator[Finding]:
    entries = list(_entries(raw, "changelog"))
    dated = [(e["date"], i, e) for i, e in entries if isinstance(e.get("date"), dt.date)]
    if not dated:
        return
    newest_date, _, newest = max(dated, key=lambda item: item[0])
    if isinstance(raw.get("version"), str) and newest.get("version") != raw["version"]:
        yield _error(
            ("version",),
            f"version {raw['version']!r} is not the newest changelog entry "
            f"({newest.get('version')!r} of {newest_date.isoformat()})",
        )
    last = raw.get("last_updated")
    if isinstance(last, dt.date) and last != newest_date:
        yield _error(
            ("last_updated",),
            f"last_updated {last.isoformat()} differs from "
            f"the newest changelog date {newest_date.isoformat()}",
        )


def _check_rights(raw: dict[str, Any]) -> Iterator[Finding]:
    rights = raw.get("rights")
    if not isinstance(rights, dict):
        return
    response = _duration(rights.get("response_time"))
    if response and response.approx_days > 31:
        yield _error(
            ("rights", "response_time"),
            f"response time {response} is longer than the one month of Art. 12(3)",
        )
    extension = _duration(rights.get("max_extension"))
    if extension and extension.approx_days > 62:
        yield _error(
            ("rights", "max_extension"),
            f"extension {extension} is longer than the two further months of Art. 12(3)",
        )


def cross_checks(raw: dict[str, Any], *, as_of: dt.date, line_of: LineOf) -> list[Finding]:
    """Every cross-entry problem of the raw policy data."""
    findings: list[Finding] = []
    findings += _check_duplicates(raw, line_of)
    for index, activity in _entries(raw, "activity"):
        findings += _check_activity(raw, index, activity)
    promise: str | None = None
    if _promises_eu_eea_only(raw):
        line = line_of(PROMISE)
        promise = "notice.processors_eu_eea_only" + (f" at line {line}" if line else "")
    for index, processor in _entries(raw, "processor"):
        findings += _check_processor(index, processor, as_of, promise=promise)
    findings += _check_eu_eea_texts(raw)
    for key in ("subject_category", "data_category"):
        for index, category in _entries(raw, key):
            findings += _dpv((key, index, "dpv"), category.get("dpv"), ("dpv", "pd"))
    for index, measure in _entries(raw, "security_measures"):
        findings += _dpv(("security_measures", index, "dpv"), measure.get("dpv"), ("dpv",))
    findings += _check_cookies(raw)
    findings += _check_versions(raw)
    findings += _check_rights(raw)
    return findings
