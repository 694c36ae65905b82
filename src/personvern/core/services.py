"""Writes on persons and their privacy facts. Each one is audited in its transaction."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_log, new_entry
from personvern.core.models import (
    AuditEntry,
    ConsentAction,
    ConsentEvent,
    EmailIdentity,
    Hold,
    HoldScope,
    Membership,
    Objection,
    Organisation,
    Person,
    Restriction,
    RestrictionGround,
)
from personvern.core.prepared import PreparedInsert, PreparedQuery

NOT_AN_EMAIL = _("'%(address)s' is not an e-mail address.")
INVALID_DOMAIN = _("'%(address)s' has an invalid domain.")
EMAIL_TAKEN = _("%(address)s already belongs to a person.")
MEMBERSHIP_ENDS_BEFORE_START = _("A membership cannot end before it starts.")
NOT_AN_ACTIVITY = _("'%(scope)s' is not an activity of the policy.")
CONSENT_TEXT_NEEDED = _("Consent must name the text agreed to.")
HOLD_REASON_NEEDED = _("A hold needs a reason.")
HOLD_ROW_NEEDED = _("A row hold needs the row.")
NOT_A_GROUND = _("'%(ground)s' is not a ground of Art. 18(1).")
NOT_A_POLICY_ACTIVITY = _("'%(activity)s' is not a policy activity.")
OBJECTION_NOT_APPLICABLE = _(
    "'%(activity)s' does not rest on Art. 6(1)(e) or (f); the right to object does not apply."
)


def normalise_email(address: str) -> str:
    """Trim, lower-case, and IDNA-encode the domain; raises ValidationError if invalid."""
    address = address.strip()
    local, sep, domain = address.rpartition("@")
    if not sep or not local or not domain:
        raise ValidationError(NOT_AN_EMAIL, params={"address": address})
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError(INVALID_DOMAIN, params={"address": address}) from exc
    normalised = f"{local}@{domain}".lower()
    validate_email(normalised)
    return normalised


def person_create(
    *,
    email: str,
    given_name: str = "",
    family_name: str = "",
    phone: str = "",
    actor: str,
    verified: bool = False,
    now: datetime | None = None,
) -> Person:
    """Create a person with one e-mail identity (which must not belong to anyone)."""
    now = now or timezone.now()
    address = normalise_email(email)
    with transaction.atomic():
        if EmailIdentity.objects.filter(address=address).exists():
            raise ValidationError(
                {"email": ValidationError(EMAIL_TAKEN, params={"address": address})}
            )
        person = Person.objects.create(
            given_name=given_name.strip(),
            family_name=family_name.strip(),
            phone=phone.strip(),
            created_at=now,
        )
        EmailIdentity.objects.create(
            person=person, address=address, verified_at=now if verified else None, created_at=now
        )
        audit_log(actor=actor, action="person.created", person=person, now=now)
    return person


#: The person who holds an address, every field: compiled once (ADR 0036), since
#: every post of the public course form looks one up.
_PERSON_FIELDS = [field.attname for field in Person._meta.concrete_fields]
_PERSON_BY_ADDRESS = PreparedQuery(
    lambda address: EmailIdentity.objects.filter(address=address)
    .values_list(*[f"person__{name}" for name in _PERSON_FIELDS]),
    placeholders=["placeholder@prepared.invalid"],
)
_PERSON_INSERT = PreparedInsert(Person)
_IDENTITY_INSERT = PreparedInsert(EmailIdentity)


def person_get_or_create(
    *,
    email: str,
    given_name: str = "",
    family_name: str = "",
    phone: str = "",
    actor: str,
    now: datetime | None = None,
    audit_entries: list[AuditEntry] | None = None,
) -> tuple[Person, bool]:
    """The person who holds ``email``, or a new one. Existing names are not overwritten.

    ``audit_entries``: a caller that writes its own audit entries in one statement
    passes its list; the new person's entry is appended to it (the caller must
    insert it in this transaction) instead of inserted here.
    """
    address = normalise_email(email)
    found = _PERSON_BY_ADDRESS.rows(address)
    if found:
        return Person.from_db(DEFAULT_DB_ALIAS, _PERSON_FIELDS, found[0]), False
    now = now or timezone.now()
    # The address was just looked up: no second check, and no savepoint of its own
    # (an address taken meanwhile by another transaction is the unique index's
    # IntegrityError, which ends the caller's transaction as any error would).
    with transaction.atomic(savepoint=False):
        person = Person(
            given_name=given_name.strip(),
            family_name=family_name.strip(),
            phone=phone.strip(),
            created_at=now,
        )
        _PERSON_INSERT.create(person)
        _IDENTITY_INSERT.create(EmailIdentity(person=person, address=address, created_at=now))
        if audit_entries is None:
            audit_log(actor=actor, action="person.created", person=person, now=now)
        else:
            audit_entries.append(
                new_entry(actor=actor, action="person.created", person=person, now=now)
            )
    return person, True


def email_identity_add(*, person: Person, email: str, actor: str) -> EmailIdentity:
    address = normalise_email(email)
    with transaction.atomic():
        if EmailIdentity.objects.filter(address=address).exists():
            raise ValidationError(
                {"email": ValidationError(EMAIL_TAKEN, params={"address": address})}
            )
        identity = EmailIdentity.objects.create(person=person, address=address)
        audit_log(actor=actor, action="person.email_added", person=person)
    return identity


def membership_add(
    *,
    person: Person,
    organisation: Organisation | str,
    valid_from: date,
    valid_to: date | None = None,
    member_id: str = "",
    actor: str,
) -> Membership:
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": MEMBERSHIP_ENDS_BEFORE_START})
    with transaction.atomic():
        membership = Membership.objects.create(
            person=person, organisation=organisation, valid_from=valid_from, valid_to=valid_to,
            member_id=member_id.strip(),
        )
        audit_log(
            actor=actor,
            action="membership.added",
            person=person,
            data={"organisation": str(organisation)},
        )
    return membership


def membership_end(*, membership: Membership, valid_to: date, actor: str) -> Membership:
    if valid_to < membership.valid_from:
        raise ValidationError({"valid_to": MEMBERSHIP_ENDS_BEFORE_START})
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(valid_to=valid_to)
        membership.valid_to = valid_to
        audit_log(
            actor=actor,
            action="membership.ended",
            person=membership.person,
            data={"organisation": membership.organisation},
        )
    return membership


def consent_record(
    *,
    person: Person,
    scope: str,
    action: ConsentAction | str,
    channel: str,
    text_version: str = "",
    actor: str,
    now: datetime | None = None,
) -> ConsentEvent:
    """Append to the consent ledger (consent given or withdrawn)."""
    from personvern.core.policy import current_policy

    if scope not in {a.id for a in current_policy().activities}:
        raise ValidationError({"scope": ValidationError(NOT_AN_ACTIVITY, params={"scope": scope})})
    if action == ConsentAction.GIVEN and not text_version:
        raise ValidationError({"text_version": CONSENT_TEXT_NEEDED})
    now = now or timezone.now()
    with transaction.atomic():
        event = ConsentEvent.objects.create(
            person=person,
            scope=scope,
            action=action,
            text_version=text_version,
            channel=channel,
            at=now,
        )
        audit_log(
            actor=actor,
            action=f"consent.{action}",
            person=person,
            activity=scope,
            data={"channel": channel, "text_version": text_version},
            now=now,
        )
    return event


def hold_place(
    *,
    scope: HoldScope | str,
    reason: str,
    actor: str,
    person: Person | None = None,
    activity: str = "",
    row: object | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> Hold:
    """Keep data from deletion (a legal claim, an investigation) until lifted or expired."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import models

    if not reason.strip():
        raise ValidationError({"reason": HOLD_REASON_NEEDED})
    content_type = None
    object_id = None
    if scope == HoldScope.ROW:
        if not isinstance(row, models.Model):
            raise ValidationError({"row": HOLD_ROW_NEEDED})
        content_type = ContentType.objects.get_for_model(row)
        object_id = row.pk
    now = now or timezone.now()
    with transaction.atomic():
        hold = Hold.objects.create(
            scope=scope,
            reason=reason,
            person=person,
            activity=activity,
            content_type=content_type,
            object_id=object_id,
            expires_at=expires_at,
            created_by=actor,
            created_at=now,
        )
        audit_log(
            actor=actor,
            action="hold.placed",
            person=person,
            activity=activity,
            data={"hold": hold.pk, "scope": str(scope)},
            now=now,
        )
    return hold


def hold_lift(*, hold: Hold, actor: str, now: datetime | None = None) -> Hold:
    now = now or timezone.now()
    with transaction.atomic():
        Hold.objects.filter(pk=hold.pk).update(lifted_at=now)
        hold.lifted_at = now
        audit_log(actor=actor, action="hold.lifted", person=hold.person, data={"hold": hold.pk})
    return hold


def restriction_place(
    *,
    person: Person,
    ground: RestrictionGround | str,
    note: str = "",
    actor: str,
    now: datetime | None = None,
) -> Restriction:
    """Art. 18: restrict processing of the person's data on one of the four grounds."""
    if ground not in RestrictionGround.values:
        raise ValidationError({"ground": ValidationError(NOT_A_GROUND, params={"ground": ground})})
    now = now or timezone.now()
    with transaction.atomic():
        restriction = Restriction.objects.create(
            person=person, ground=ground, note=note, started_at=now, created_by=actor
        )
        audit_log(
            actor=actor,
            action="restriction.placed",
            person=person,
            data={"ground": str(ground)},
            now=now,
        )
    return restriction


def restriction_lift(
    *, restriction: Restriction, actor: str, now: datetime | None = None
) -> Restriction:
    now = now or timezone.now()
    with transaction.atomic():
        Restriction.objects.filter(pk=restriction.pk).update(lifted_at=now)
        restriction.lifted_at = now
        audit_log(
            actor=actor,
            action="restriction.lifted",
            person=restriction.person,
            data={"ground": restriction.ground},
            now=now,
        )
    return restriction


def objection_record(
    *,
    person: Person,
    activity: str,
    note: str = "",
    actor: str,
    now: datetime | None = None,
) -> Objection:
    """Art. 21: record an objection to an activity, or to direct marketing."""
    from personvern.core.policy import current_policy

    policy = current_policy()
    if activity != Objection.DIRECT_MARKETING:
        try:
            target = policy.activity(activity)
        except KeyError as exc:
            raise ValidationError(
                {"activity": ValidationError(NOT_A_POLICY_ACTIVITY, params={"activity": activity})}
            ) from exc
        if not target.objection_applies:
            raise ValidationError(
                {
                    "activity": ValidationError(
                        OBJECTION_NOT_APPLICABLE, params={"activity": activity}
                    )
                }
            )
    now = now or timezone.now()
    with transaction.atomic():
        objection = Objection.objects.create(
            person=person, activity=activity, note=note, at=now, created_by=actor
        )
        audit_log(
            actor=actor, action="objection.recorded", person=person, activity=activity, now=now
        )
    return objection


def objection_lift(*, objection: Objection, actor: str, now: datetime | None = None) -> Objection:
    now = now or timezone.now()
    with transaction.atomic():
        Objection.objects.filter(pk=objection.pk).update(lifted_at=now)
        objection.lifted_at = now
        audit_log(
            actor=actor,
            action="objection.lifted",
            person=objection.person,
            activity=objection.activity,
            now=now,
        )
    return objection
