"""Typed models of the policy file (pydantic v2).

The models check what one entry can check on its own (types, required nb/en
texts, Art. 6(1) letters, durations, anchors, cohorts). Rules that look across
entries (duplicate ids, references, EU/EEA locations, audits) live in
``personvern.policy.checks`` so that they run even when some entry is broken,
and every problem is reported in one go.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from .duration import Duration
from .vocab import ANCHORS, COHORTS

Basis = Literal["a", "b", "c", "d", "e", "f"]
Role = Literal["controller", "processor"]
Lang = Literal["nb", "en"]

_ID = r"^[a-z0-9][a-z0-9-]*$"


class _Model(BaseModel):
    # Unknown keys are errors: a typo such as "retension" must not silently
    # drop a rule from the policy.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def normalise_lang(lang: str | None) -> Lang:
    """Map a Django language code (``nb``, ``nb-no``, ``no``, ``en-gb``) to nb or en."""
    if lang and lang.lower().startswith(("nb", "no", "nn")):
        return "nb"
    return "en"


class Text(_Model):
    """A text the public reads, in Norwegian Bokmål and English (both required)."""

    nb: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str | None) -> str:
        """The text in ``lang`` (nb for any Norwegian code, en otherwise)."""
        return self.nb if normalise_lang(lang) == "nb" else self.en

    @field_validator("nb", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be blank")
        return value.strip()


class Purpose(Text):
    """A purpose of processing, with its DPV purpose class for the JSON-LD record."""

    dpv: str | None = None


class Measure(Text):
    """A technical or organisational measure (Art. 30(1)(g)), with its DPV class."""

    dpv: str | None = None


class ChangelogEntry(_Model):
    """One published version of the policy."""

    version: str = Field(min_length=1)
    date: dt.date
    summary: Text


class Controller(_Model):
    """The data controller (Art. 4(7)) publishing the notice."""

    name: str = Field(min_length=1)
    short_name: str | None = None
    org_no: str = Field(pattern=r"^\d{3} ?\d{3} ?\d{3}$")
    site_name: str | None = None
    website: str | None = None
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    privacy_marker: str = Field(min_length=1)
    postal_address: list[str] = Field(min_length=1)
    country: str = Field(default="NO", pattern=r"^[A-Z]{2}$")
    description: Text | None = None


class SupervisoryAuthority(_Model):
    """Where a data subject can complain (Art. 77)."""

    name: Text
    postal_address: list[str] = Field(min_length=1)
    complaint_url: str = Field(pattern=r"^https://")
    country: str = Field(default="NO", pattern=r"^[A-Z]{2}$")


class Principal(_Model):
    """A controller on whose behalf we act as processor (Art. 30(2)(a))."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    description: Text | None = None
    email: str | None = None
    postal_address: list[str] = Field(default_factory=list)
    country: str = Field(default="NO", pattern=r"^[A-Z]{2}$")


class Category(_Model):
    """A named category of data subjects or personal data, with its DPV term."""

    id: str = Field(pattern=_ID)
    name: Text
    dpv: str | None = None


class RightText(_Model):
    """One data subject right as the notice explains it."""

    id: Literal[
        "access",
        "rectification",
        "erasure",
        "restriction",
        "objection",
        "portability",
        "withdraw-consent",
    ]
    article: str = Field(min_length=1)
    title: Text
    text: Text


class Rights(_Model):
    """How requests are made and how fast they are answered (Art. 12(3))."""

    response_time: Duration
    max_extension: Duration
    channels: list[Literal["email", "post", "form"]] = Field(min_length=1)
    marker: str = Field(min_length=1)
    how_to: Text
    right: list[RightText] = Field(default_factory=list)

    @property
    def rights(self) -> list[RightText]:
        """The rights explained in the notice, in file order."""
        return self.right


class Recipient(_Model):
    """Someone the activity's data is disclosed to."""

    name: Text
    kind: Literal["processor", "controller", "third-party", "public-authority"]
    processor: str | None = None
    condition: Text | None = None
    data_categories: list[str] = Field(default_factory=list)
    country: str = Field(default="NO", pattern=r"^[A-Z]{2}$")


class RetentionRule(_Model):
    """How long one activity (or one cohort of it) keeps its rows."""

    id: str = Field(pattern=_ID)
    keep: Duration
    after: str
    cohort: str | None = None
    action: Literal["delete", "anonymise"] = "delete"
    our_choice: bool = False
    note: Text | None = None

    @field_validator("after")
    @classmethod
    def _known_anchor(cls, value: str) -> str:
        if value not in ANCHORS:
            raise ValueError(
                f"unknown anchor {value!r}; known anchors: {', '.join(sorted(ANCHORS))}"
            )
        return value

    @field_validator("cohort")
    @classmethod
    def _known_cohort(cls, value: str | None) -> str | None:
        if value is not None and value not in COHORTS:
            raise ValueError(
                f"unknown cohort {value!r}; known cohorts: {', '.join(sorted(COHORTS))}"
            )
        return value


class SubjectBasis(_Model):
    """A basis of its own for some of an activity's data subjects (R17, the newsletter).

    The activity's ``basis`` is the one its processing rests on in general; an
    entry here names the subject categories that are processed on another Art.
    6(1) basis instead (members of Advokatforeningen get the newsletter on their
    membership, everyone else on consent), and, with ``under``, the activity
    whose basis that is (the processing done on Advokatforeningen's behalf).
    The notice, the record (CSV, XLSX, JSON-LD) and the access report state it.
    """

    subjects: list[str] = Field(min_length=1)
    basis: Basis
    under: str | None = None


class Activity(_Model):
    """A processing activity (Art. 30): what, why, on which basis, for how long."""

    id: str = Field(pattern=_ID)
    title: Text
    description: Text
    subjects: list[str] = Field(min_length=1)
    data_categories: list[str] = Field(min_length=1)
    purposes: list[Purpose] = Field(min_length=1)
    basis: Basis
    basis_note: Text | None = None
    basis_for: list[SubjectBasis] = Field(default_factory=list)
    national_law: str | None = None
    role: Role = "controller"
    on_behalf_of: str | None = None
    recipients: list[Recipient] = Field(default_factory=list)
    source: Text | None = None
    stores_data: bool = True
    stored_under: str | None = None
    retention: list[RetentionRule] = Field(default_factory=list)

    @field_validator("basis", mode="before")
    @classmethod
    def _exactly_one_basis(cls, value: Any) -> Any:
        # A list here is the classic mistake of declaring two bases "to be safe";
        # the GDPR wants one basis per purpose, so say that instead of a type error.
        if isinstance(value, list):
            raise ValueError(
                "an activity must have exactly one Art. 6(1) basis (one letter a-f), "
                f"found {len(value)}: {value!r}"
            )
        if isinstance(value, str):
            return re.sub(r"^(art\.?\s*)?6\s*\(1\)\s*\(?([a-f])\)?$", r"\2", value.strip().lower())
        return value

    @property
    def bases(self) -> list[str]:
        """Every Art. 6(1) basis the activity rests on: its own first, then those of
        ``basis_for`` (once each)."""
        return list(dict.fromkeys([self.basis, *(b.basis for b in self.basis_for)]))

    def basis_of(self, subject: str) -> str:
        """The basis the data of subject category ``subject`` is processed on."""
        for entry in self.basis_for:
            if subject in entry.subjects:
                return entry.basis
        return self.basis

    @property
    def portable(self) -> bool:
        """Art. 20 applies: processing on consent or contract."""
        return self.basis in ("a", "b")

    @property
    def objection_applies(self) -> bool:
        """Art. 21 applies: processing on public task or legitimate interest."""
        return self.basis in ("e", "f")

    @property
    def cohorts(self) -> set[str]:
        """The cohorts that have a rule of their own in this activity."""
        return {rule.cohort for rule in self.retention if rule.cohort}

    def rule(self, rule_id: str) -> RetentionRule:
        """The retention rule with this id (KeyError if none)."""
        for rule in self.retention:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"activity {self.id!r} has no retention rule {rule_id!r}")


class Processor(_Model):
    """A processor we use (Art. 28): where it works, its DPA and its audits."""

    id: str = Field(pattern=_ID)
    #: A company's name (one string), or a description in both languages where
    #: no company is named yet (``name.nb`` / ``name.en``).
    name: str | Text
    service: Text
    country: str = Field(pattern=r"^[A-Z]{2}$")
    storage: list[str] = Field(default_factory=list)
    transfer_mechanism: str | None = None
    dpa_date: dt.date
    audit_interval: Duration
    last_audit: dt.date | None = None
    placeholder: bool = False

    @field_validator("storage")
    @classmethod
    def _country_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise ValueError(f"storage location {code!r} is not an ISO 3166 country code")
        return value

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str | Text) -> str | Text:
        if isinstance(value, str) and not value.strip():
            raise ValueError("a processor's name must not be blank")
        return value

    def name_in(self, lang: str | None) -> str:
        """The processor's name as shown to a reader of ``lang``."""
        return self.name if isinstance(self.name, str) else self.name.get(lang)

    def next_audit_due(self) -> dt.date:
        """When the next audit is due: an interval after the last one (or after the DPA)."""
        return self.audit_interval.add_to(self.last_audit or self.dpa_date)

    def audit_overdue(self, as_of: dt.date) -> bool:
        """Whether the next audit is past due on ``as_of``."""
        return self.next_audit_due() < as_of


_LIFETIME = re.compile(r"^(session|\d{1,4}(min|h)|\d{1,5}[dwmy])$")


class Cookie(_Model):
    """A cookie the site sets, as the cookie policy lists it."""

    name: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    category: Literal["necessary", "preferences", "analytics"]
    purpose: Text
    lifetime: str
    consent_required: bool
    activity: str | None = None

    @field_validator("lifetime")
    @classmethod
    def _lifetime(cls, value: str) -> str:
        if not _LIFETIME.match(value):
            raise ValueError(
                f"malformed cookie lifetime {value!r}: use 'session', minutes ('30min'), "
                "hours ('12h') or a duration ('2w', '1y')"
            )
        return value

    def describe_lifetime(self, lang: str) -> str:
        """The lifetime in words (``2 uker``, ``session``, ``30 minutes``)."""
        nb = normalise_lang(lang) == "nb"
        if self.lifetime == "session":
            return "til nettleseren lukkes" if nb else "until the browser is closed"
        match = re.fullmatch(r"(\d+)(min|h)", self.lifetime)
        if match:
            amount, unit = int(match.group(1)), match.group(2)
            if unit == "min":
                return f"{amount} {'minutter' if nb else 'minutes'}"
            word = (
                ("time" if amount == 1 else "timer") if nb else ("hour" if amount == 1 else "hours")
            )
            return f"{amount} {word}"
        return Duration(self.lifetime).describe("nb" if nb else "en")


class NoticeTexts(_Model):
    """Free texts of the notice that are not tied to one activity, and what they promise.

    ``processors_eu_eea_only``: the notice promises that every processor works
    from, and stores data in, the EU/EEA. Then a processor anywhere else is an
    error, whatever transfer mechanism it names. Without the promise, a processor
    outside the EU/EEA needs a transfer mechanism, the notice names it with its
    country and mechanism, and the free texts must not speak of EU/EEA-only
    processing (see ``checks``).
    """

    intro: Text
    processor_role: Text | None = None
    location: Text
    contact: Text
    processors_eu_eea_only: bool = False


class CookiePolicyTexts(_Model):
    """Free texts of the cookie policy page."""

    intro: Text
    consent: Text


class Policy(_Model):
    """The whole policy: load it with ``load_policy()``, never construct it by hand."""

    version: str = Field(min_length=1)
    last_updated: dt.date
    changelog: list[ChangelogEntry] = Field(min_length=1)
    controller: Controller
    supervisory_authority: SupervisoryAuthority
    notice: NoticeTexts
    cookie_policy: CookiePolicyTexts
    rights: Rights
    security_measures: list[Measure] = Field(default_factory=list)
    principals: list[Principal] = Field(default_factory=list, alias="principal")
    subject_categories: list[Category] = Field(min_length=1, alias="subject_category")
    data_categories: list[Category] = Field(min_length=1, alias="data_category")
    processors: list[Processor] = Field(default_factory=list, alias="processor")
    activities: list[Activity] = Field(min_length=1, alias="activity")
    cookies: list[Cookie] = Field(default_factory=list, alias="cookie")

    _warnings: list[Any] = PrivateAttr(default_factory=list)
    _source: str = PrivateAttr(default="")

    @property
    def warnings(self) -> list[Any]:
        """Problems of severity "warning" found when loading (e.g. overdue audits)."""
        return self._warnings

    @property
    def source(self) -> str:
        """The file this policy was loaded from."""
        return self._source

    def activity(self, activity_id: str) -> Activity:
        """The activity with this id (KeyError if the policy declares none)."""
        for activity in self.activities:
            if activity.id == activity_id:
                return activity
        raise KeyError(f"the policy declares no activity {activity_id!r}")

    def processor(self, processor_id: str) -> Processor:
        """The processor with this id (KeyError if none)."""
        for processor in self.processors:
            if processor.id == processor_id:
                return processor
        raise KeyError(f"the policy declares no processor {processor_id!r}")

    def cookie(self, name: str) -> Cookie:
        """The cookie with this name (KeyError if none)."""
        for cookie in self.cookies:
            if cookie.name == name:
                return cookie
        raise KeyError(f"the policy declares no cookie {name!r}")

    def principal(self, principal_id: str) -> Principal:
        """The controller we process for, by id (KeyError if none)."""
        for principal in self.principals:
            if principal.id == principal_id:
                return principal
        raise KeyError(f"the policy declares no principal {principal_id!r}")

    def subject_category(self, category_id: str) -> Category:
        """A data subject category by id (KeyError if none)."""
        for category in self.subject_categories:
            if category.id == category_id:
                return category
        raise KeyError(f"the policy declares no subject category {category_id!r}")

    def data_category(self, category_id: str) -> Category:
        """A personal data category by id (KeyError if none)."""
        for category in self.data_categories:
            if category.id == category_id:
                return category
        raise KeyError(f"the policy declares no data category {category_id!r}")

    @property
    def controller_activities(self) -> list[Activity]:
        """Activities where we decide (Art. 30(1) record)."""
        return [a for a in self.activities if a.role == "controller"]

    @property
    def processor_activities(self) -> list[Activity]:
        """Activities done on someone else's behalf (Art. 30(2) record)."""
        return [a for a in self.activities if a.role == "processor"]
