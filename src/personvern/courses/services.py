"""Writes on courses, registrations and hotel transfers; each one audited in its transaction.

Capacity under concurrency: every write that can change who holds a seat
(registering, cancelling, raising the capacity) first locks the course row
with ``SELECT … FOR UPDATE`` (PostgreSQL) and then counts the confirmed seats.
On SQLite the write transaction is ``BEGIN IMMEDIATE`` (see settings), so it
holds the database's single write lock from its first statement and the same
count-then-insert is serialised there too. Either way two registrations can
never both take the last seat, and a cancellation moves up exactly one person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NotRequired, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Count, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.audit import audit_insert, audit_log, new_entry
from personvern.core.models import AuditEntry, Person
from personvern.core.prepared import PreparedInsert, PreparedQuery
from personvern.core.ratelimits import allow
from personvern.core.services import normalise_email, person_get_or_create
from personvern.courses import mails
from personvern.courses.cle_report import cle_report_export
from personvern.courses.lists import (
    ACTIVITY,
    EXPORT_FORMATS,
    NO_HOTEL_STAY,
    UNKNOWN_FORMAT,
    ExportFormat,
    checkin_list_view,
    dietary_list_view,
    hotel_deletion_date,
    hotel_list_export,
    hotel_list_preview,
    hotel_list_send,
    hotel_transfer_confirm_deletion,
    participant_list_export,
    render_rows,
)
from personvern.courses.models import (
    Course,
    CourseKind,
    Registration,
    RegistrationStatus,
    Venue,
)
from personvern.courses.selectors import (
    LEGAL_TZ,
    customer_relationship_end,
)
from personvern.worker.outbox import queue_mail

# The lists (participant and hotel lists, hotel hand-overs) live in
# personvern.courses.lists; their names stay importable here.
__all__ = [
    "ACTIVITY", "EXPORT_FORMATS", "NO_HOTEL_STAY", "UNKNOWN_FORMAT", "ExportFormat",
    "hotel_deletion_date", "hotel_list_export", "hotel_transfer_confirm_deletion",
    "participant_list_export", "render_rows", "checkin_list_view", "dietary_list_view",
    "hotel_list_preview", "hotel_list_send", "cle_report_export",
]


# Messages a registrant can see on the form.
NO_DIETARY_DIGITAL = _("A digital course does not ask for dietary needs.")
NO_STAY_DIGITAL = _("A digital course has no overnight stay.")
NO_STAY_OFFERED = _("This course offers no hotel stay.")
ARRIVAL_NEEDED = _("An overnight stay needs an arrival date.")
DEPARTURE_NEEDED = _("An overnight stay needs a departure date.")
DEPARTURE_AFTER_ARRIVAL = _("Departure must be after arrival.")
STAY_OUTSIDE_COURSE = _("The stay must overlap the course dates.")
DATES_WITHOUT_STAY = _("Arrival and departure are asked only for an overnight stay.")
REQUIRED = _("This field is required.")
CLOSED = _("Registration for this course is closed.")
STARTED = _("The course has already started.")
ALREADY_REGISTERED = _("This person is already registered for the course.")
SUBJECT_RECEIPT = _("Your course registration: %(title)s")
ALREADY_CANCELLED = _("This registration is already cancelled.")
CANCEL_TOO_LATE = _(
    "The course has started, so the registration can no longer be cancelled here. "
    "Please contact us."
)
HOTEL_NAME_AND_EMAIL = _("A hotel needs both a name and an e-mail address.")
ENDS_BEFORE_START = _("A course cannot end before it starts.")
VENUE_NEEDED = _("A physical course needs a venue.")
NO_VENUE_DIGITAL = _("A digital course has no venue.")
LINK_ONLY_DIGITAL = _("Only a digital course has a digital link; a physical one has a venue.")
HOTEL_ONLY_PHYSICAL = _("Only a physical course can offer a hotel stay.")
VENUE_WITHOUT_HOTEL = _("The venue has no hotel to offer a stay at.")
TIME_ZONE_NEEDED = _("The time must carry a time zone.")
CODE_TAKEN = _("A course with the code '%(slug)s' already exists.")
CANNOT_CHANGE_HERE = _("This field cannot be changed here.")
ATTENDANCE_TOO_EARLY = _("Attendance can be recorded once the course starts.")
NOT_CONFIRMED = _("Not confirmed registrations of %(course)s: %(ids)s.")

#: Fields only a physical course asks for, and those only a hotel stay needs.
PHYSICAL_FIELDS = ("dietary_needs", "overnight_stay", "arrival_date", "departure_date")
STAY_FIELDS = ("overnight_stay", "arrival_date", "departure_date")


def _locked(course: Course) -> Course:
    """Re-read the course under a row lock (a no-op statement lock on SQLite)."""
    return Course.objects.select_for_update().get(pk=course.pk)


#: What a registration reads of its course under the seat lock.
_SEAT_FIELDS = ("capacity", "registration_open", "starts_at", "ends_at")


#: The seat lock's statement and the count of taken seats, compiled once (ADR 0036).
_SEAT_LOCK = PreparedQuery(
    lambda pk: Course.objects.select_for_update().filter(pk=pk).values_list(*_SEAT_FIELDS),
    placeholders=[-7_654_321],
)
_REGISTRATION_INSERT = PreparedInsert(Registration)
_SEATS_TAKEN = PreparedQuery(
    lambda pk: Registration.objects.filter(course_id=pk, status=RegistrationStatus.CONFIRMED)
    .order_by().values("course_id").annotate(taken=Count("pk")).values_list("taken"),
    placeholders=[-7_654_321],
)


def _lock_for_seats(course: Course) -> None:
    """Lock the course row and refresh, on ``course``, the fields a registration checks
    (capacity, open, start, end) as they are under the lock. One statement, no model
    built: the caller has the rest of the course already. Only inside a transaction."""
    rows = _SEAT_LOCK.rows(course.pk, using=course._state.db or DEFAULT_DB_ALIAS)
    if not rows:
        raise ValidationError({"course": CLOSED})
    for name, value in zip(_SEAT_FIELDS, rows[0], strict=True):
        setattr(course, name, value)


def _seats_taken(course: Course) -> int:
    """Confirmed registrations of ``course`` (under its lock, for a new one's status)."""
    rows = _SEATS_TAKEN.rows(course.pk, using=course._state.db or DEFAULT_DB_ALIAS)
    return int(rows[0][0]) if rows else 0


# -- venues and courses -------------------------------------------------------


def venue_create(
    *, name: str, address: str, hotel_name: str = "", hotel_email: str = "", actor: str
) -> Venue:
    """Create a venue; a hotel needs both a name and an e-mail address or neither."""
    if bool(hotel_name.strip()) != bool(hotel_email.strip()):
        raise ValidationError({"hotel_email": HOTEL_NAME_AND_EMAIL})
    venue = Venue(
        name=name.strip(), address=address.strip(),
        hotel_name=hotel_name.strip(), hotel_email=hotel_email.strip(),
    )
    venue.full_clean()
    with transaction.atomic():
        venue.save(force_insert=True)
        audit_log(actor=actor, action="venue.created", activity=ACTIVITY, data={"venue": venue.pk})
    return venue


def venue_update(*, venue: Venue, changes: Mapping[str, Any], actor: str) -> Venue:
    """Change a venue's fields (name, address, hotel)."""
    allowed = {"name", "address", "hotel_name", "hotel_email"}
    _reject_unknown(changes, allowed)
    for key, value in changes.items():
        setattr(venue, key, value)
    if bool(venue.hotel_name.strip()) != bool(venue.hotel_email.strip()):
        raise ValidationError({"hotel_email": HOTEL_NAME_AND_EMAIL})
    venue.full_clean()
    with transaction.atomic():
        Venue.objects.filter(pk=venue.pk).update(**dict(changes))
        audit_log(
            actor=actor, action="venue.changed", activity=ACTIVITY,
            data={"venue": venue.pk, "fields": sorted(changes)},
        )
    return venue


def _validate_course(course: Course) -> None:
    errors: dict[str, Any] = {}
    if course.ends_at < course.starts_at:
        errors["ends_at"] = ENDS_BEFORE_START
    if course.kind == CourseKind.PHYSICAL and course.venue_id is None:
        errors["venue"] = VENUE_NEEDED
    if course.kind == CourseKind.DIGITAL and course.venue_id is not None:
        errors["venue"] = NO_VENUE_DIGITAL
    if course.kind == CourseKind.PHYSICAL and course.digital_link:
        errors["digital_link"] = LINK_ONLY_DIGITAL
    if course.hotel_stay_offered:
        if course.kind != CourseKind.PHYSICAL:
            errors["hotel_stay_offered"] = HOTEL_ONLY_PHYSICAL
        elif course.venue is not None and not course.venue.hotel_name:
            errors["hotel_stay_offered"] = VENUE_WITHOUT_HOTEL
    if errors:
        raise ValidationError(errors)
    course.full_clean(validate_unique=False, validate_constraints=False)


def course_create(
    *,
    title: str,
    slug: str,
    kind: CourseKind | str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    venue: Venue | None = None,
    legal_hours: Decimal | int | str = 0,
    non_legal_hours: Decimal | int | str = 0,
    ethics_hours: Decimal | int | str = 0,
    hotel_stay_offered: bool = False,
    subject: str = "",
    summary: str = "",
    description: str = "",
    programme: str = "",
    price: Decimal | int | str = 0,
    digital_link: str = "",
    registration_open: bool = True,
    actor: str,
    now: datetime | None = None,
) -> Course:
    """Create a course. Times must be timezone-aware."""
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if timezone.is_naive(value):
            raise ValidationError({name: TIME_ZONE_NEEDED})
    now = now or timezone.now()
    course = Course(
        title=title.strip(), slug=slug, kind=kind, starts_at=starts_at, ends_at=ends_at,
        capacity=capacity, venue=venue, legal_hours=Decimal(str(legal_hours)),
        non_legal_hours=Decimal(str(non_legal_hours)),
        ethics_hours=Decimal(str(ethics_hours)), hotel_stay_offered=hotel_stay_offered,
        registration_open=registration_open, created_at=now, subject=subject.strip(),
        summary=summary.strip(), description=description.strip(), programme=programme.strip(),
        price=Decimal(str(price)), digital_link=digital_link.strip(),
    )
    _validate_course(course)
    with transaction.atomic():
        if Course.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": ValidationError(CODE_TAKEN, params={"slug": slug})})
        course.save(force_insert=True)
        audit_log(
            actor=actor, action="course.created", activity=ACTIVITY,
            data={"course": course.pk, "slug": course.slug}, now=now,
        )
    return course


def course_update(
    *, course: Course, changes: Mapping[str, Any], actor: str, now: datetime | None = None
) -> Course:
    """Change a course. Raising the capacity moves wait-listed people up into the new seats."""
    allowed = {
        "title", "kind", "starts_at", "ends_at", "capacity", "venue", "legal_hours",
        "non_legal_hours", "ethics_hours", "hotel_stay_offered", "registration_open",
        "subject", "summary", "description", "programme", "price", "digital_link",
    }
    _reject_unknown(changes, allowed)
    now = now or timezone.now()
    with transaction.atomic():
        course = _locked(course)
        for key, value in changes.items():
            setattr(course, key, value)
        _validate_course(course)
        course.save(update_fields=list(changes))
        audit_log(
            actor=actor, action="course.changed", activity=ACTIVITY,
            data={"course": course.pk, "fields": sorted(changes)}, now=now,
        )
        _fill_free_seats(course, actor=actor, now=now)
        if "ends_at" in changes:
            # Moving a course's end moves the customer relationship of everyone on it.
            participants = list(
                Registration.objects.filter(course=course).values_list("person_id", flat=True)
            )
            _lock_persons(participants)
            refresh_relationship_ends(Registration.objects.filter(person_id__in=participants))
    return course


def _reject_unknown(changes: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, CANNOT_CHANGE_HERE))


# -- registrations -------------------------------------------------------------


def _validate_registration_fields(
    course: Course,
    *,
    dietary_needs: str,
    overnight_stay: bool,
    arrival_date: date | None,
    departure_date: date | None,
) -> None:
    """Refuse what the course does not need (R12), and stay dates that make no sense."""
    errors: dict[str, Any] = {}
    if not course.is_physical:
        if dietary_needs:
            errors["dietary_needs"] = NO_DIETARY_DIGITAL
        if overnight_stay or arrival_date or departure_date:
            errors["overnight_stay"] = NO_STAY_DIGITAL
    elif not course.hotel_stay_offered and (overnight_stay or arrival_date or departure_date):
        errors["overnight_stay"] = NO_STAY_OFFERED
    elif overnight_stay:
        start = timezone.localtime(course.starts_at, LEGAL_TZ).date()
        end = timezone.localtime(course.ends_at, LEGAL_TZ).date()
        if arrival_date is None:
            errors["arrival_date"] = ARRIVAL_NEEDED
        if departure_date is None:
            errors["departure_date"] = DEPARTURE_NEEDED
        if arrival_date and departure_date:
            if departure_date <= arrival_date:
                errors["departure_date"] = DEPARTURE_AFTER_ARRIVAL
            elif arrival_date > end or departure_date < start:
                errors["arrival_date"] = STAY_OUTSIDE_COURSE
    elif arrival_date or departure_date:
        errors["overnight_stay"] = DATES_WITHOUT_STAY
    if errors:
        raise ValidationError(errors)


class RegistrationArgs(TypedDict):
    """The keyword arguments of :func:`registration_create` and :func:`registration_submit`
    (those of :func:`_register` but its audit list), so that mypy checks their callers."""

    course: Course
    email: str
    given_name: str
    family_name: str
    actor: str
    employer: NotRequired[str]
    invoice_reference: NotRequired[str]
    dietary_needs: NotRequired[str]
    overnight_stay: NotRequired[bool]
    arrival_date: NotRequired[date | None]
    departure_date: NotRequired[date | None]
    language: NotRequired[str]
    now: NotRequired[datetime | None]


def registration_create(**kwargs: Unpack[RegistrationArgs]) -> Registration:
    """Register a person for a course: confirmed while seats are free, else wait-listed.

    The person is found by e-mail or created (core ``person_get_or_create``).
    ``language`` is the one the person registered in: their mails are written in it.
    Raises ``ValidationError`` naming the field when the data does not fit the
    course, the course is closed or full-and-started, or the person is already
    registered. Keyword arguments: those of :func:`_register`.
    """
    entries: list[AuditEntry] = []
    with transaction.atomic():
        registration = _register(audit_entries=entries, **kwargs)
        audit_insert(entries)
    return registration


def registration_submit(**kwargs: Unpack[RegistrationArgs]) -> Registration:
    """The public form's registration: :func:`registration_create` and
    :func:`registration_receipt_send` in one transaction, their audit entries
    (person created, registration created, receipt sent) written in one statement.
    Keyword arguments: those of :func:`_register`."""
    entries: list[AuditEntry] = []
    with transaction.atomic():
        registration = _register(audit_entries=entries, **kwargs)
        entries.append(_receipt(
            registration=registration, email=kwargs["email"], actor=kwargs["actor"],
            now=kwargs.get("now"),
        ))
        audit_insert(entries)
    return registration


def _register(
    *,
    audit_entries: list[AuditEntry],
    course: Course,
    email: str,
    given_name: str,
    family_name: str,
    employer: str = "",
    invoice_reference: str = "",
    dietary_needs: str = "",
    overnight_stay: bool = False,
    arrival_date: date | None = None,
    departure_date: date | None = None,
    language: str = "",
    actor: str,
    now: datetime | None = None,
) -> Registration:
    """:func:`registration_create`'s work; its audit entries are appended to
    ``audit_entries`` for the caller to insert in the same transaction."""
    now = now or timezone.now()
    dietary_needs = dietary_needs.strip()
    _validate_registration_fields(
        course, dietary_needs=dietary_needs, overnight_stay=overnight_stay,
        arrival_date=arrival_date, departure_date=departure_date,
    )
    if not given_name.strip() or not family_name.strip():
        raise ValidationError(
            {name: REQUIRED for name, value in
             (("given_name", given_name), ("family_name", family_name)) if not value.strip()}
        )
    # Always inside the caller's transaction (registration_create, _submit): no savepoint.
    with transaction.atomic(savepoint=False):
        # The seat lock: the course row, re-read with the fields the checks need
        # (one light statement), held to the end of the transaction.
        _lock_for_seats(course)
        if not course.registration_open:
            raise ValidationError({"course": CLOSED})
        if now >= course.starts_at:
            raise ValidationError({"course": STARTED})
        person, created = person_get_or_create(
            email=email, given_name=given_name, family_name=family_name, actor=actor, now=now,
            audit_entries=audit_entries,
        )
        if not created and Registration.objects.filter(course=course, person=person).exclude(
            status=RegistrationStatus.CANCELLED
        ).exists():
            raise ValidationError(
                {"email": ValidationError(ALREADY_REGISTERED, code="already_registered")}
            )
        taken = _seats_taken(course)
        status = (
            RegistrationStatus.CONFIRMED if taken < course.capacity
            else RegistrationStatus.WAITLISTED
        )
        registration = Registration(
            course=course,
            person=person,
            status=status,
            registered_at=now,
            employer=employer.strip(),
            invoice_reference=invoice_reference.strip(),
            dietary_needs=dietary_needs,
            overnight_stay=overnight_stay,
            arrival_date=arrival_date if overnight_stay else None,
            departure_date=departure_date if overnight_stay else None,
            language=language,
            # A person created just now has no other registration: the customer
            # relationship ends with this course (ADR 0009). Nobody else can see
            # the uncommitted person, and the course's end cannot move while we
            # hold its row. Others are recomputed below.
            relationship_ends_at=course.ends_at if created else None,
        )
        _REGISTRATION_INSERT.create(registration)
        audit_entries.append(new_entry(
            actor=actor, action="registration.created", person=person, activity=ACTIVITY,
            data={"course": course.pk, "registration": registration.pk, "status": status},
            now=now,
        ))
        if not created:
            # The person's other registrations may end later: recompute them all
            # under the person's lock (taken in the same order everywhere).
            _lock_persons([person.pk])
            refresh_relationship_ends(Registration.objects.filter(person=person))
            registration.refresh_from_db(fields=["relationship_ends_at"])
    return registration


def is_already_registered(error: ValidationError) -> bool:
    """Whether ``registration_create`` refused because the address is already registered."""
    errors = getattr(error, "error_dict", {}).get("email", [])
    return any(e.code == "already_registered" for e in errors)


def registration_receipt_send(
    *, registration: Registration, email: str, actor: str, now: datetime | None = None
) -> None:
    """E-mail the registrant what became of their registration (ADR 0012, ADR 0020).

    A seat: the confirmation with everything needed to attend and a calendar
    file; no seat: the place on the waiting list. Both carry the link that
    cancels the registration. The public form's receipt page says neither: only
    the owner of the address learns the status. Written in the registration's
    language; queued in the caller's transaction.
    """
    _receipt(registration=registration, email=email, actor=actor, now=now).save(
        force_insert=True
    )


def _receipt(
    *, registration: Registration, email: str, actor: str, now: datetime | None
) -> AuditEntry:
    """Queue the receipt; its audit entry, unsaved, for the caller to insert."""
    mails.registration_mail(registration, to=email, now=now)
    return new_entry(
        actor=actor, action="registration.receipt_sent", person=registration.person,
        activity=ACTIVITY,
        data={"registration": registration.pk, "status": registration.status}, now=now,
    )


def registration_book(
    *,
    course: Course,
    email: str,
    actor: str,
    send_confirmation: bool = True,
    language: str = "",
    now: datetime | None = None,
    **fields: Any,
) -> Registration:
    """Register a participant on their behalf (a phone booking by staff, ADR 0026).

    The same rules as the public form (:func:`registration_create`: the fields
    the course asks for, the seat or the waiting list) and, unless staff opt
    out for this booking, the same mail (confirmation or waiting-list place) in
    the participant's language, queued in the same transaction. Unlike the
    public form, an address already registered is refused with the reason:
    staff see the registrations anyway. Opting out is audited too.
    """
    now = now or timezone.now()
    if send_confirmation:
        return registration_submit(
            course=course, email=email, actor=actor, language=language, now=now, **fields
        )
    with transaction.atomic():
        registration = registration_create(
            course=course, email=email, actor=actor, language=language, now=now, **fields
        )
        audit_log(
            actor=actor, action="registration.receipt_not_sent", person=registration.person,
            activity=ACTIVITY,
            data={"registration": registration.pk, "status": registration.status}, now=now,
        )
    return registration


def registration_duplicate_notice_send(
    *, course: Course, email: str, actor: str, now: datetime | None = None
) -> bool:
    """Tell the owner of ``email`` that someone registered it again for ``course``.

    The public form answers a registration for an address that is already
    registered exactly as it answers a new one, so the form cannot be used to
    find out who takes which course; the owner of the address hears of it here.
    At most ``PERSONVERN_RATE_LIMIT_REPEAT_NOTICE`` such notices go to one address
    (default one an hour): posting the form again and again does not mail its
    owner again; the form's answer is the same either way. Returns whether the
    notice was sent.
    """
    from personvern.core.selectors import person_by_email

    if not allow("repeat-notice", normalise_email(email)):
        return False
    body = render_to_string("courses/email/already_registered.txt", {"course": course})
    person = person_by_email(email)
    queue_mail(
        to=email, subject=str(SUBJECT_RECEIPT % {"title": course.title}), body=body,
        kind="registration-duplicate-notice", person=person, now=now,
    )
    audit_log(
        actor=actor, action="registration.duplicate_notice_sent",
        person=person, activity=ACTIVITY, data={"course": course.pk}, now=now,
    )
    return True


def registration_update(
    *,
    registration: Registration,
    changes: Mapping[str, Any],
    actor: str,
    now: datetime | None = None,
) -> Registration:
    """Correct a registration's own details (rectification); status is changed elsewhere."""
    allowed = {
        "employer", "invoice_reference", "dietary_needs", "overnight_stay",
        "arrival_date", "departure_date",
    }
    _reject_unknown(changes, allowed)
    merged = {
        name: changes.get(name, getattr(registration, name))
        for name in ("dietary_needs", "overnight_stay", "arrival_date", "departure_date")
    }
    _validate_registration_fields(registration.course, **merged)
    now = now or timezone.now()
    with transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(**dict(changes))
        for key, value in changes.items():
            setattr(registration, key, value)
        audit_log(
            actor=actor, action="registration.changed", person=registration.person,
            activity=ACTIVITY,
            data={"registration": registration.pk, "fields": sorted(changes)}, now=now,
        )
    return registration


def _lock_persons(person_ids: Iterable[int]) -> None:
    """Lock these persons' rows (in key order) before their relationship end is recomputed.

    Every writer of ``relationship_ends_at`` takes these locks first, so two of
    them never interleave their reads and writes of one person's registrations
    (on PostgreSQL; SQLite has one writer at a time anyway).
    """
    list(
        Person.objects.select_for_update()
        .filter(pk__in=list(person_ids)).order_by("pk").values_list("pk", flat=True)
    )


def refresh_relationship_ends(rows: QuerySet[Registration]) -> int:
    """Set ``relationship_ends_at`` on these rows from all their persons' registrations.

    One ``UPDATE`` with a correlated subquery; pass rows of whole persons (all
    of a person's registrations share the value). No audit entry: the value is
    derived from the course dates, and callers audit the change that moved it.
    """
    return rows.update(relationship_ends_at=customer_relationship_end("person"))


def customer_relationships_refresh(
    *,
    actor: str,
    batch_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute every registration's ``relationship_ends_at``; returns the rows updated.

    The services keep the column current (a new registration, a course whose
    end moves). This is for rows written around them: a bulk import, demo
    data, or a database restored from before the column existed. Set-based,
    one transaction per batch of ``batch_size`` persons, in person order, so
    memory stays flat and an interrupted refresh can simply be run again.
    ``progress(persons_done, persons_total)`` is called after each batch.
    """
    now = now or timezone.now()
    persons = Registration.objects.order_by("person_id").values_list("person_id", flat=True)
    total = persons.distinct().count()
    done = updated = 0
    last = 0
    while True:
        with transaction.atomic():
            ids = list(persons.filter(person_id__gt=last).distinct()[:batch_size])
            if not ids:
                break
            _lock_persons(ids)
            updated += refresh_relationship_ends(Registration.objects.filter(person_id__in=ids))
        last = ids[-1]
        done += len(ids)
        if progress:
            progress(done, total)
    audit_log(
        actor=actor, action="courses.relationships_refreshed", activity=ACTIVITY,
        data={"persons": done, "registrations": updated}, now=now,
    )
    return updated


@dataclass(frozen=True)
class CancelResult:
    cancelled: Registration
    promoted: list[Registration]


def registration_cancel(
    *, registration: Registration, actor: str, now: datetime | None = None
) -> CancelResult:
    """Cancel a registration; a freed seat goes to the first person on the waiting list.

    Cancelling twice is refused (``ValidationError``), so two racing
    cancellations of the same registration move up exactly one person.
    """
    now = now or timezone.now()
    with transaction.atomic():
        course = _locked(registration.course)
        current = Registration.objects.select_related("person").get(pk=registration.pk)
        if current.status == RegistrationStatus.CANCELLED:
            raise ValidationError({"status": ALREADY_CANCELLED})
        Registration.objects.filter(pk=current.pk).update(
            status=RegistrationStatus.CANCELLED, cancelled_at=now
        )
        audit_log(
            actor=actor, action="registration.cancelled", person=current.person,
            activity=ACTIVITY,
            data={"course": course.pk, "registration": current.pk, "was": current.status},
            now=now,
        )
        promoted = _fill_free_seats(course, actor=actor, now=now)
    current.status = RegistrationStatus.CANCELLED
    current.cancelled_at = now
    return CancelResult(cancelled=current, promoted=promoted)


def _fill_free_seats(course: Course, *, actor: str, now: datetime) -> list[Registration]:
    """Move the first wait-listed people into free seats. Call with the course locked.

    The number of people moved is bounded by the course's capacity, so auditing
    each of them is a bounded loop, not one over a growing table.
    """
    taken = Registration.objects.filter(course=course, status=RegistrationStatus.CONFIRMED).count()
    free = course.capacity - taken
    if free <= 0:
        return []
    first = list(
        Registration.objects.select_related("person")
        .filter(course=course, status=RegistrationStatus.WAITLISTED)
        .order_by("registered_at", "pk")[:free]
    )
    if not first:
        return []
    Registration.objects.filter(pk__in=[r.pk for r in first]).update(
        status=RegistrationStatus.CONFIRMED
    )
    for registration in first:
        registration.status = RegistrationStatus.CONFIRMED
        registration.course = course
        # The person is told, in the same transaction: the confirmation's content
        # and the calendar file (ADR 0020). Before, a move up was silent.
        mailed = mails.promotion_mail(registration, now=now)
        audit_log(
            actor=actor, action="registration.moved_up", person=registration.person,
            activity=ACTIVITY,
            data={"course": course.pk, "registration": registration.pk, "mailed": mailed},
            now=now,
        )
    return first


def participant_may_cancel(registration: Registration, *, now: datetime | None = None) -> bool:
    """Whether the participant may cancel ``registration`` themselves: an active
    registration of a course that has not started."""
    now = now or timezone.now()
    return (
        registration.status != RegistrationStatus.CANCELLED
        and now < registration.course.starts_at
    )


def participant_cancel(
    *, registration: Registration, actor: str, now: datetime | None = None
) -> CancelResult:
    """Cancel a registration at its participant's request (the mailed link, Min side).

    Allowed until the course starts (``ValidationError`` on ``status`` after
    that, or when it is already cancelled). In one transaction: the
    cancellation, the receipt to the participant, and the move up of the first
    person on the waiting list, who is told by mail (``_fill_free_seats``).
    """
    now = now or timezone.now()
    with transaction.atomic():
        course = _locked(registration.course)
        if now >= course.starts_at:
            raise ValidationError({"status": CANCEL_TOO_LATE})
        result = registration_cancel(registration=registration, actor=actor, now=now)
        result.cancelled.course = course
        mailed = mails.cancellation_mail(result.cancelled, now=now)
        audit_log(
            actor=actor, action="registration.cancellation_receipt_sent",
            person=result.cancelled.person, activity=ACTIVITY,
            data={"registration": result.cancelled.pk, "mailed": mailed}, now=now,
        )
    return result


def attendance_record(
    *,
    course: Course,
    registration_ids: Iterable[int],
    attended: bool | None,
    actor: str,
    now: datetime | None = None,
) -> int:
    """Record whether confirmed participants showed up (R12); ``None`` clears it.

    One ``UPDATE`` for the whole set. Every id must be a confirmed registration
    of ``course``, else nothing is written and the error names the ids.
    """
    now = now or timezone.now()
    ids = sorted(set(registration_ids))
    if not ids:
        return 0
    if now < course.starts_at:
        raise ValidationError({"attended": ATTENDANCE_TOO_EARLY})
    with transaction.atomic():
        valid = set(
            Registration.objects.filter(
                pk__in=ids, course=course, status=RegistrationStatus.CONFIRMED
            ).values_list("pk", flat=True)
        )
        wrong = [i for i in ids if i not in valid]
        if wrong:
            raise ValidationError(
                {
                    "registration_ids": ValidationError(
                        NOT_CONFIRMED,
                        params={"course": course.slug, "ids": ", ".join(map(str, wrong))},
                    )
                }
            )
        updated = Registration.objects.filter(pk__in=ids).update(attended=attended)
        audit_log(
            actor=actor, action="attendance.recorded", activity=ACTIVITY,
            data={"course": course.pk, "attended": attended, "rows": updated}, now=now,
        )
    return updated


# -- participant and hotel lists --------------------------------------------------
