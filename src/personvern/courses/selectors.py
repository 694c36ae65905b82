"""Reads on courses: lists for participants and hotels, and the holder expressions.

The participant and hotel lists are one set-based query each: the persons'
names come by join, persons under an active restriction (Art. 18, R36) are
left out by a subquery, and only the fields the policy allows are selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Greatest, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from personvern.core.models import Membership, Organisation
from personvern.core.prepared import PreparedQuery
from personvern.core.selectors import restricted_person_ids
from personvern.courses.models import (
    Course,
    CourseKind,
    HotelTransfer,
    Registration,
    RegistrationStatus,
)

#: Legal dates (membership periods, course end dates) are judged in Norway.
LEGAL_TZ = ZoneInfo("Europe/Oslo")

ListField = tuple[str, str | Promise]

#: The fields a participant list (R13) shows, and the only ones it may show.
#:
#: A participant list lets the participants of a course see who else takes part
#: and where they work, which is what networking at a professional course needs.
#: Contact details (e-mail, phone), invoice references, dietary needs, stay
#: dates and attendance are administration data: they are not needed by the
#: other participants and are therefore never put on the list.
PARTICIPANT_LIST_FIELDS: tuple[ListField, ...] = (
    ("person__given_name", _("Given name")),
    ("person__family_name", _("Family name")),
    ("employer", _("Employer")),
)

#: The fields a hotel list (R11) hands over to the course's hotel.
#:
#: A hotel list is a room booking: the hotel needs the guest's name to book
#: the room and check the guest in, and the arrival and departure dates to know
#: which nights to book. Nothing else goes: not e-mail or phone (the course
#: provider is the hotel's customer and its contact), not employer or invoice
#: reference (the provider pays), not attendance, and not dietary needs: they
#: can reveal health or belief (GDPR Art. 9), the booking does not need them,
#: and meals at the course are arranged by the course administrator.
HOTEL_LIST_FIELDS: tuple[ListField, ...] = (
    ("person__given_name", _("Given name")),
    ("person__family_name", _("Family name")),
    ("arrival_date", _("Arrival")),
    ("departure_date", _("Departure")),
)


def course_by_slug(slug: str) -> Course:
    """The course with this code (raises ``Course.DoesNotExist``)."""
    return Course.objects.select_related("venue").get(slug=slug)


def course_overview() -> QuerySet[Course]:
    """Every course with its confirmed and wait-listed counts (one query)."""
    return Course.objects.select_related("venue").annotate(
        confirmed_count=Count(
            "registrations", filter=Q(registrations__status=RegistrationStatus.CONFIRMED)
        ),
        waitlisted_count=Count(
            "registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)
        ),
    )


def confirmed_count(course: Course) -> int:
    return Registration.objects.filter(course=course, status=RegistrationStatus.CONFIRMED).count()


def waiting_list(course: Course) -> QuerySet[Registration]:
    """The course's wait-listed registrations, first in line first."""
    return Registration.objects.filter(
        course=course, status=RegistrationStatus.WAITLISTED
    ).order_by("registered_at", "pk")


def waitlist_position(registration: Registration) -> int | None:
    """1-based place on the waiting list, or ``None`` if not wait-listed."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = waiting_list(registration.course).filter(
        Q(registered_at__lt=registration.registered_at)
        | Q(registered_at=registration.registered_at, pk__lt=registration.pk)
    )
    return ahead.count() + 1


def _listed_registrations(course: Course, now: datetime | None) -> QuerySet[Registration]:
    return (
        Registration.objects.filter(course=course, status=RegistrationStatus.CONFIRMED)
        .exclude(person_id__in=restricted_person_ids(now=now))
        .order_by("person__family_name", "person__given_name", "pk")
    )


def participant_rows(course: Course, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The participant list (R13): confirmed, unrestricted participants, allowed fields only."""
    names = [name for name, _label in PARTICIPANT_LIST_FIELDS]
    return list(_listed_registrations(course, now).values(*names))


def hotel_rows(course: Course, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The hotel list (R11): confirmed, unrestricted overnight participants, hotel fields only.

    Each row also carries ``id`` and ``person_id`` so the hand-over can be
    recorded per person; the exported file leaves them out.
    """
    names = [name for name, _label in HOTEL_LIST_FIELDS]
    return list(
        _listed_registrations(course, now)
        .filter(overnight_stay=True)
        .values("id", "person_id", *names)
    )


#: The check-in list at the door: who is expected, and where they work (R12).
CHECKIN_LIST_FIELDS: tuple[ListField, ...] = (
    ("person__given_name", _("Given name")),
    ("person__family_name", _("Family name")),
    ("employer", _("Employer")),
)

#: The internal list for the venue's kitchen: names and dietary needs only. Only
#: participants who gave any; dietary needs may reveal health or belief (Art. 9).
DIETARY_LIST_FIELDS: tuple[ListField, ...] = (
    ("person__given_name", _("Given name")),
    ("person__family_name", _("Family name")),
    ("dietary_needs", _("Dietary needs")),
)


def checkin_rows(course: Course, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The check-in list: confirmed, unrestricted participants, with their attendance."""
    names = [name for name, _label in CHECKIN_LIST_FIELDS]
    return list(_listed_registrations(course, now).values("id", "attended", *names))


def dietary_rows(course: Course, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The dietary list: confirmed, unrestricted participants who stated dietary needs."""
    names = [name for name, _label in DIETARY_LIST_FIELDS]
    return list(_listed_registrations(course, now).exclude(dietary_needs="").values(*names))


def list_headers(fields: Sequence[ListField]) -> list[str]:
    return [str(label) for _name, label in fields]


# -- holder expressions (used by privacy.py) ---------------------------------


def customer_relationship_end(person_path: str) -> Subquery:
    """The end of the person's last course, over all their registrations.

    The customer relationship is active while the person has courses; it ends
    when their latest course ends. A correlated subquery: the course services
    store its value in ``Registration.relationship_ends_at`` (ADR 0009), which
    is what retention reads; evaluated per row over millions of rows it cost
    the engine more than everything else together.
    """
    latest = (
        Registration.objects.filter(person_id=OuterRef(person_path))
        .order_by()
        .values("person_id")
        .annotate(last_end=Max("course__ends_at"))
        .values("last_end")[:1]
    )
    return Subquery(latest)


def advokatforeningen_member_at_course_end(person_path: str, course_end_path: str) -> Q:
    """Whether the person was a member of Advokatforeningen on the course's end date.

    Membership is judged at course time (in Oslo's calendar): the course counts
    towards the member's mandatory continuing education only if they were a
    member then, whatever happened to the membership later.
    """
    # The wrapper gives the outer reference the field type TruncDate needs.
    outer_end = ExpressionWrapper(OuterRef(course_end_path), output_field=DateTimeField())
    course_end_date = TruncDate(outer_end, tzinfo=LEGAL_TZ)
    member = Membership.objects.filter(
        person_id=OuterRef(person_path),
        organisation=Organisation.ADVOKATFORENINGEN,
        valid_from__lte=course_end_date,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=course_end_date))
    return Q(Exists(member))


def course_end_date(course: Course) -> Any:
    """The course's end date in Oslo's calendar."""
    return timezone.localtime(course.ends_at, LEGAL_TZ).date()


def hotel_deletions_overdue(*, today: date) -> QuerySet[HotelTransfer]:
    """Hand-overs whose hotel should have deleted the list by ``today`` and has not
    confirmed it (R9): the follow-up list for course administrators."""
    return (
        HotelTransfer.objects.filter(delete_by__lt=today, deletion_confirmed_at__isnull=True)
        .select_related("course")
        .order_by("delete_by")
    )


# -- the public course list and course page ------------------------------------


def _with_seats(qs: QuerySet[Course]) -> QuerySet[Course]:
    """Courses with their venue, confirmed and wait-listed counts and seats left,
    all in the one query that reads them (no query per course)."""
    return (
        qs.select_related("venue")
        .annotate(
            confirmed_count=Count(
                "registrations", filter=Q(registrations__status=RegistrationStatus.CONFIRMED)
            ),
            waitlisted_count=Count(
                "registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)
            ),
        )
        .annotate(seats_left=Greatest(F("capacity") - F("confirmed_count"), Value(0)))
    )


def upcoming(*, now: datetime) -> QuerySet[Course]:
    """Courses that have not started, soonest first (no seat counts)."""
    return Course.objects.filter(starts_at__gt=now).order_by("starts_at", "slug")


def month_bounds(month: str) -> tuple[datetime, datetime] | None:
    """The first moment of ``month`` ("2027-01") and of the next, on Norway's clock;
    ``None`` when it is not a month."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = datetime(year, number, 1, tzinfo=LEGAL_TZ)
    except ValueError:
        return None
    following = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=LEGAL_TZ)
    return first, following


def course_catalogue(
    *, now: datetime, query: str = "", subject: str = "", month: str = "", kind: str = ""
) -> QuerySet[Course]:
    """The public course list: upcoming courses with seat counts, filtered.

    ``query`` is matched in title, subject and summary; ``subject`` is one of
    :func:`catalogue_subjects`; ``month`` is "YYYY-MM" (on Norway's clock);
    ``kind`` is ``digital`` or ``physical``. A filter that is not one of those
    values is left out rather than refused (it comes from a plain GET form).
    """
    qs = upcoming(now=now)
    words = query.split()
    for word in words[:8]:
        qs = qs.filter(
            Q(title__icontains=word) | Q(subject__icontains=word) | Q(summary__icontains=word)
        )
    if subject:
        qs = qs.filter(subject=subject)
    bounds = month_bounds(month) if month else None
    if bounds:
        qs = qs.filter(starts_at__gte=bounds[0], starts_at__lt=bounds[1])
    if kind in CourseKind.values:
        qs = qs.filter(kind=kind)
    return _with_seats(qs)


def catalogue_subjects(*, now: datetime) -> list[str]:
    """The subjects of the upcoming courses, for the subject filter (one query)."""
    return list(
        upcoming(now=now).exclude(subject="").order_by("subject")
        .values_list("subject", flat=True).distinct()
    )


def catalogue_months(*, now: datetime) -> list[date]:
    """The first day of each month (on Norway's clock) in which an upcoming course
    starts, for the month filter (one query)."""
    months = (
        upcoming(now=now).annotate(month=TruncMonth("starts_at", tzinfo=LEGAL_TZ))
        .order_by("month").values_list("month", flat=True).distinct()
    )
    return [timezone.localtime(m, LEGAL_TZ).date() if isinstance(m, datetime) else m
            for m in months]


def course_page(slug: str) -> Course:
    """One course with its venue and seat counts (raises ``Course.DoesNotExist``)."""
    return _with_seats(Course.objects.filter(slug=slug)).get()


#: Every field of a course, by its slug: compiled once (ADR 0036), since every post of
#: the public form reads one.
_COURSE_FIELDS = [field.attname for field in Course._meta.concrete_fields]
_COURSE_BY_SLUG = PreparedQuery(
    lambda slug: Course.objects.filter(slug=slug).values_list(*_COURSE_FIELDS),
    placeholders=["placeholder-prepared-slug"],
)


def course_to_register(slug: str) -> Course:
    """One course, without its venue or seat counts: what a registration post needs
    (the seats are counted under the course's lock; the mails read the venue when
    the worker writes them). Raises ``Course.DoesNotExist``."""
    rows = _COURSE_BY_SLUG.rows(slug)
    if not rows:
        raise Course.DoesNotExist(f"No course {slug!r}.")
    return Course.from_db(DEFAULT_DB_ALIAS, _COURSE_FIELDS, rows[0])
