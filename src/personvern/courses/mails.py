"""The mails a participant gets about a registration, and the signed link to cancel it.

Four mails, each queued through the outbox in the transaction of the change that
causes it (ADR 0014) and written by the worker when it sends them (ADR 0031), in
the language the person registered in
(``Registration.language``; the site's default for registrations made
elsewhere), ADR 0020:

- a confirmation: everything needed to attend (times, the venue and its address
  or the digital link, the hotel nights booked), with a calendar file (.ics);
- a waiting-list placement, with the place in line;
- a seat freed: the confirmation's content, told as a move up from the list;
- a cancellation receipt.

The first three carry a link that cancels the registration without signing in:
``/courses/cancel/<token>/``, the token signed with :mod:`django.core.signing`
under a salt of its own, naming the registration only. It is refused once the
registration is cancelled or the course has started (the view says which), and
is not accepted after :data:`CANCEL_LINK_MAX_AGE` whatever the course.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from personvern.courses.ics import course_calendar
from personvern.courses.models import Registration, RegistrationStatus
from personvern.courses.selectors import waitlist_position
from personvern.worker.outbox import queue_built, register_builder

#: The salt that keeps a cancel token from being any other signed value of ours.
CANCEL_SALT = "personvern.courses.cancel-link"
#: A cancel link is not accepted after this long, even for a course further ahead.
CANCEL_LINK_MAX_AGE = timedelta(days=400)

SUBJECT_CONFIRMED = _("Confirmed: %(title)s")
SUBJECT_WAITLISTED = _("Waiting list: %(title)s")
SUBJECT_PROMOTED = _("You have a seat: %(title)s")
SUBJECT_CANCELLED = _("Cancelled: %(title)s")

# -- the cancel link ----------------------------------------------------------------


def cancel_token(registration: Registration) -> str:
    """The signed token of the link that cancels ``registration``."""
    return signing.dumps({"r": registration.pk}, salt=CANCEL_SALT, compress=True)


class CancelLinkExpired(Exception):
    """The token is ours but older than :data:`CANCEL_LINK_MAX_AGE`."""


def registration_from_cancel_token(token: str) -> Registration | None:
    """The registration a cancel token names; ``None`` if the token is not ours or the
    registration is gone. Raises :class:`CancelLinkExpired` for an expired one of ours."""
    try:
        payload = signing.loads(
            token, salt=CANCEL_SALT, max_age=CANCEL_LINK_MAX_AGE
        )
    except signing.SignatureExpired:
        raise CancelLinkExpired from None
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("r"), int):
        return None
    return (
        Registration.objects.select_related("course", "course__venue", "person")
        .filter(pk=payload["r"]).first()
    )


def absolute(path: str) -> str:
    return f"{settings.PERSONVERN_BASE_URL}{path}"


def cancel_url(registration: Registration) -> str:
    return absolute(reverse("courses:cancel", args=[cancel_token(registration)]))


# -- dates, hours and prices as a participant reads them ---------------------------------


def format_hours(hours: Decimal) -> str:
    """3 hours as "3", one and a half as "1,5" (nb) or "1.5" (en)."""
    value = Decimal(hours)
    places = 0 if value == value.to_integral_value() else 2 if value * 10 % 1 else 1
    return formats.number_format(value, decimal_pos=places, use_l10n=True)


PRICE = _("NOK %(amount)s")
FREE = _("Free of charge")


def format_price(price: Decimal) -> str:
    """"kr 4 500" (nb) or "NOK 4,500" (en); "Free of charge" for nothing."""
    if not price:
        return str(FREE)
    places = 0 if price == price.to_integral_value() else 2
    amount = formats.number_format(price, decimal_pos=places, use_l10n=True, force_grouping=True)
    return str(PRICE) % {"amount": amount}


# -- the mails ----------------------------------------------------------------------


def recipient(registration: Registration) -> str | None:
    """The address the registration's mails go to: the person's first address."""
    address = registration.person.emails.order_by("pk").values_list("address", flat=True).first()
    return address


def _language(registration: Registration) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return registration.language if registration.language in codes else settings.LANGUAGE_CODE


def _context(registration: Registration) -> dict[str, Any]:
    course = registration.course
    nights = None
    if registration.overnight_stay and registration.arrival_date and registration.departure_date:
        nights = (registration.departure_date - registration.arrival_date).days
    return {
        "registration": registration,
        "course": course,
        "venue": course.venue,
        "course_url": absolute(reverse("courses:detail", args=[course.slug])),
        "cancel_url": cancel_url(registration),
        "nights": nights,
        "programme": [line.strip() for line in course.programme.splitlines() if line.strip()],
        "hours": {
            "legal": format_hours(course.legal_hours),
            "non_legal": format_hours(course.non_legal_hours),
            "ethics": format_hours(course.ethics_hours),
            "total": format_hours(course.total_hours),
        },
        "price": format_price(course.price),
    }


#: The four mails: template, subject, kind, whether a calendar file goes with it.
MAILS: dict[str, tuple[str, Any, str, bool]] = {
    "confirmed": ("courses/email/confirmed.txt", SUBJECT_CONFIRMED,
                  "registration-confirmed", True),
    "waitlisted": ("courses/email/waitlisted.txt", SUBJECT_WAITLISTED,
                   "registration-waitlisted", False),
    "promoted": ("courses/email/promoted.txt", SUBJECT_PROMOTED,
                 "registration-promoted", True),
    "cancelled": ("courses/email/cancelled.txt", SUBJECT_CANCELLED,
                  "registration-cancelled", False),
}
#: The outbox's name for the builder of these mails (:func:`build`).
BUILDER = "courses.registration"


def _send(
    registration: Registration, mail: str, *, to: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue one of :data:`MAILS` to the registration's person; whether one was queued.

    Only the address, the subject and the registration's id are stored in the
    caller's transaction (ADR 0014 holds: the mail goes with its change); the
    worker writes the body and the calendar file when it sends it (:func:`build`,
    ADR 0031), in the registration's language.
    """
    address = to or recipient(registration)
    if not address:
        return False
    _template, subject, kind, _calendar = MAILS[mail]
    with translation.override(_language(registration)):
        title = str(subject) % {"title": registration.course.title}
    queue_built(
        builder=BUILDER, args={"registration": registration.pk, "mail": mail},
        to=address, subject=title, kind=kind, person=registration.person, now=now,
    )
    return True


def build(outgoing: Any) -> EmailMessage | None:
    """Write a queued course mail (the outbox calls this when it sends it); None when
    the registration is gone. ``outgoing`` is the :class:`OutgoingMail` row."""
    args = outgoing.builder_args
    registration = (
        Registration.objects.select_related("course", "course__venue", "person")
        .filter(pk=args.get("registration")).first()
    )
    if registration is None or args.get("mail") not in MAILS:
        return None
    template, subject, _kind, calendar = MAILS[args["mail"]]
    with translation.override(_language(registration)):
        context = _context(registration)
        if args["mail"] == "waitlisted":
            context["position"] = waitlist_position(registration)
        body = render_to_string(template, context).strip() + "\n"
        message = EmailMessage(
            subject=str(subject) % {"title": registration.course.title}, body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
        )
        if calendar:
            message.attach(
                f"{registration.course.slug}.ics",
                course_calendar(registration, now=outgoing.queued_at, url=context["course_url"]),
                "text/calendar",
            )
    return message


register_builder(BUILDER, build)


def registration_mail(
    registration: Registration, *, to: str | None = None, now: datetime | None = None
) -> bool:
    """The mail after registering: the confirmation, or the place on the waiting list."""
    if registration.status == RegistrationStatus.WAITLISTED:
        return _send(registration, "waitlisted", to=to, now=now)
    return _send(registration, "confirmed", to=to, now=now)


def promotion_mail(registration: Registration, *, now: datetime | None = None) -> bool:
    """The mail to a person moved up from the waiting list into a seat."""
    return _send(registration, "promoted", now=now)


def cancellation_mail(registration: Registration, *, now: datetime | None = None) -> bool:
    """The receipt for a cancelled registration."""
    return _send(registration, "cancelled", now=now)
