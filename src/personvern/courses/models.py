"""Courses, venues, registrations and the hand-overs of participant data to hotels.

What a registration stores differs between digital and physical courses (R12):
the physical-only columns (dietary needs, overnight stay, arrival and
departure) stay empty for a digital course, and the overnight columns stay
empty unless the course offers a hotel stay. The services enforce this; the
check constraints below make the database refuse a row that breaks it.

All writes go through :mod:`personvern.courses.services`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import not_personal, personal
from personvern.core.models import Person


class CourseKind(models.TextChoices):
    DIGITAL = "digital", _("digital")
    PHYSICAL = "physical", _("physical")


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed")
    WAITLISTED = "waitlisted", _("on the waiting list")
    CANCELLED = "cancelled", _("cancelled")


class Venue(models.Model):
    """Where a physical course takes place, and the hotel that lodges participants.

    The hotel's name and e-mail address name the recipient of hotel lists
    (R11); they are business contact data, not data about a participant.
    """

    name = not_personal(models.CharField(_("name"), max_length=200), "the venue's name")
    address = not_personal(models.TextField(_("address")), "where the venue is")
    hotel_name = not_personal(
        models.CharField(_("hotel"), max_length=200, blank=True), "the hotel's name"
    )
    hotel_email = not_personal(
        models.EmailField(_("hotel e-mail address"), blank=True),
        "the hotel's booking address, an organisation's",
    )

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    """A course or event people register for."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("code"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CourseKind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity"))
    venue = models.ForeignKey(
        Venue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("venue"),
    )
    subject = models.CharField(
        _("subject"), max_length=100, blank=True, db_default="",
        help_text=_("The field of law or topic, used to filter the course list."),
    )
    summary = models.CharField(
        _("summary"), max_length=300, blank=True, db_default="",
        help_text=_("One or two sentences: shown in the course list and on certificates."),
    )
    description = models.TextField(_("description"), blank=True, db_default="")
    programme = models.TextField(
        _("programme"), blank=True, db_default="",
        help_text=_("One line per item, for example '09:00 Welcome'."),
    )
    price = models.DecimalField(
        _("price (NOK)"), max_digits=9, decimal_places=2, default=0, db_default=0
    )
    digital_link = models.URLField(
        _("digital link"), blank=True, db_default="",
        help_text=_("Where a digital course is followed; sent to confirmed participants only."),
    )
    # Hours towards mandatory continuing legal education, by the three kinds the
    # Norwegian Bar Association counts (legal, non-legal, legal ethics).
    legal_hours = models.DecimalField(
        _("legal hours"), max_digits=5, decimal_places=2, default=0,
        help_text=_("Hours of legal subjects that count towards continuing legal education."),
    )
    non_legal_hours = models.DecimalField(
        _("non-legal hours"), max_digits=5, decimal_places=2, default=0, db_default=0
    )
    ethics_hours = models.DecimalField(
        _("legal ethics hours"), max_digits=5, decimal_places=2, default=0
    )
    hotel_stay_offered = models.BooleanField(_("hotel stay offered"), default=False)
    registration_open = models.BooleanField(_("registration open"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["starts_at", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")), name="course_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(kind="digital", venue__isnull=True, hotel_stay_offered=False)
                | Q(kind="physical", venue__isnull=False),
                name="course_venue_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({timezone.localtime(self.starts_at):%Y-%m-%d})"

    @property
    def is_physical(self) -> bool:
        return self.kind == CourseKind.PHYSICAL

    @property
    def total_hours(self) -> Decimal:
        """All continuing-education hours of the course, of every kind."""
        return self.legal_hours + self.non_legal_hours + self.ethics_hours


class Registration(models.Model):
    """One person's registration for one course (R12).

    A person has at most one registration per course that is not cancelled.
    The waiting list is ordered by ``registered_at`` (then id): the first in
    line moves up when a confirmed participant cancels. ``attended`` is
    ``None`` until attendance is recorded.

    ``dietary_needs`` may reveal health (allergies) or belief: it is optional
    free text, asked only for physical courses, and the form says who gets it.
    """

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("course")
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("person")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=RegistrationStatus.choices
    )
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)
    employer = personal(models.CharField(_("employer"), max_length=200, blank=True))
    invoice_reference = personal(
        models.CharField(_("invoice reference"), max_length=100, blank=True)
    )
    dietary_needs = personal(models.TextField(_("dietary needs"), blank=True))
    overnight_stay = personal(models.BooleanField(_("overnight stay"), default=False))
    arrival_date = personal(models.DateField(_("arrival"), null=True, blank=True))
    departure_date = personal(models.DateField(_("departure"), null=True, blank=True))
    attended = personal(models.BooleanField(_("attended"), null=True, blank=True))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    #: The language the person registered in ("nb", "en"): the mails about the
    #: registration (confirmation, waiting list, a seat freed, cancellation) are
    #: written in it. Empty for registrations made elsewhere: the site's default.
    language = personal(
        models.CharField(_("language"), max_length=8, blank=True, db_default="", default="")
    )
    #: When the person's customer relationship ends: the end of the last course
    #: any of their registrations is for, the same on all of them. Kept by the
    #: course services (``customer_relationships_refresh``) so retention reads
    #: a column instead of a per-row aggregate (ADR 0009). NULL until set.
    relationship_ends_at = models.DateTimeField(
        _("customer relationship ends"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["registered_at", "pk"]
        indexes = [
            models.Index(fields=["course", "status", "registered_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "person"],
                condition=~Q(status="cancelled"),
                name="registration_one_active_per_person",
            ),
            models.CheckConstraint(
                condition=Q(overnight_stay=False, arrival_date__isnull=True,
                            departure_date__isnull=True)
                | Q(overnight_stay=True, arrival_date__isnull=False,
                    departure_date__gt=models.F("arrival_date")),
                name="registration_stay_dates",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancelled_at__isnull=False)
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="registration_cancelled_at_iff_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} – {self.course.title}"


#: The stay fields of a registration and their cleared values (R9, R14): needed
#: until the stay is over; ``dietary_needs`` may reveal health or belief.
HOTEL_STAY_CLEARED: dict[str, object] = {
    "dietary_needs": "",
    "overnight_stay": False,
    "arrival_date": None,
    "departure_date": None,
}


class HotelStay(Registration):
    """The hotel stay part of a registration: the same rows, seen as their own record.

    A proxy (no table of its own), so that the policy can give the stay fields
    a retention rule of their own (activity ``hotel-stay``: cleared shortly
    after the course ends) while the registration lives as long as its own rule
    says. Its holder anonymises, never deletes: see ``courses/privacy.py``.
    """

    class Meta:
        proxy = True
        verbose_name = _("hotel stay")
        verbose_name_plural = _("hotel stays")


class HotelTransfer(models.Model):
    """One hand-over of a hotel list to a course's hotel (R11).

    Which persons were included, and which of their fields, is kept per person
    in :class:`HotelTransferEntry`, so that the hotel shows up as a recipient in
    each subject's access report.

    R9: the hotel receives the data under a data processing agreement and may
    use it for this course's stay only, deleting it afterwards. That duty lies
    with the hotel; our side records what was sent, when, to whom and by whom,
    the date by which the hotel must have deleted it (``delete_by``: the day
    after the last guest leaves), and when the hotel confirmed the deletion.
    Transfers past their date without a confirmation are listed for staff to
    follow up.
    """

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="hotel_transfers", verbose_name=_("course")
    )
    hotel_name = not_personal(models.CharField(_("hotel"), max_length=200), "the hotel's name")
    hotel_email = not_personal(
        models.EmailField(_("hotel e-mail address"), blank=True),
        "the hotel's booking address, an organisation's",
    )
    sent_at = models.DateTimeField(_("sent"))
    actor = models.CharField(_("sent by"), max_length=150)
    row_count = models.PositiveIntegerField(_("rows"))
    fields_sent = models.JSONField(_("fields sent"), default=list)
    delete_by = models.DateField(_("hotel deletes by"), null=True)
    deletion_confirmed_at = models.DateTimeField(
        _("deletion confirmed"), null=True, blank=True
    )
    registrations = models.ManyToManyField(
        Registration,
        through="HotelTransferEntry",
        related_name="hotel_transfers",
        verbose_name=_("registrations"),
    )

    class Meta:
        verbose_name = _("hotel transfer")
        verbose_name_plural = _("hotel transfers")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.hotel_name} {timezone.localtime(self.sent_at):%Y-%m-%d %H:%M}"


class HotelTransferEntry(models.Model):
    """One person's data in one hotel transfer: what the access report shows.

    ``recipient``, ``sent_at`` and ``fields_sent`` repeat the transfer's values
    so the report reads the person's own rows without joins.
    """

    transfer = models.ForeignKey(
        HotelTransfer, on_delete=models.CASCADE, related_name="entries",
        verbose_name=_("hotel transfer"),
    )
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="hotel_transfer_entries",
        verbose_name=_("registration"),
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="hotel_transfer_entries",
        verbose_name=_("person"),
    )
    recipient = models.CharField(_("recipient"), max_length=200)
    sent_at = models.DateTimeField(_("sent"))
    fields_sent = models.CharField(_("data disclosed"), max_length=300)

    class Meta:
        verbose_name = _("hotel transfer entry")
        verbose_name_plural = _("hotel transfer entries")
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "registration"], name="hotel_transfer_entry_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.sent_at:%Y-%m-%d}"


class Evaluation(models.Model):
    """A participant's evaluation of a course, used for course development (R4).

    Market research rests on legitimate interest (Art. 6(1)(f)), so the person
    may object (Art. 21): statistics leave out objecting and restricted
    persons. After the policy's period the answer is anonymised: the link to the
    person and the free-text comment go, the rating stays for statistics.
    """

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("course")
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="course_evaluations",
        verbose_name=_("person"),
    )
    rating = models.PositiveSmallIntegerField(_("rating (1–5)"))
    comment = personal(models.TextField(_("comment"), blank=True))
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)

    class Meta:
        verbose_name = _("course evaluation")
        verbose_name_plural = _("course evaluations")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="evaluation_rating_1_to_5"
            ),
            models.UniqueConstraint(
                fields=["course", "person"], name="evaluation_once_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} {self.rating}"


class CleReport(models.Model):
    """One report of a course's attended hours to Advokatforeningen (R3, R14).

    Advokatforeningen is the controller of its members' continuing legal
    education record; we report, after the course, each member's attended hours
    by category. Membership is judged at the course's end (ADR 0004). Who was
    included is kept per person in :class:`CleReportEntry`, so Advokatforeningen
    shows up as a recipient in each member's access report (ADR 0026).
    """

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="cle_reports", verbose_name=_("course")
    )
    recipient = not_personal(
        models.CharField(_("recipient"), max_length=200), "the Bar Association's name"
    )
    reported_at = models.DateTimeField(_("reported"))
    actor = models.CharField(_("reported by"), max_length=150)
    row_count = models.PositiveIntegerField(_("rows"))
    fields_sent = models.JSONField(_("fields sent"), default=list)

    class Meta:
        verbose_name = _("CLE report")
        verbose_name_plural = _("CLE reports")
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"{self.course.slug} {timezone.localtime(self.reported_at):%Y-%m-%d %H:%M}"


class CleReportEntry(models.Model):
    """One member's hours in one CLE report: what the member's access report shows.

    ``recipient``, ``sent_at`` and ``fields_sent`` repeat the report's values
    so the access report reads the person's own rows without joins.
    """

    report = models.ForeignKey(
        CleReport, on_delete=models.CASCADE, related_name="entries", verbose_name=_("CLE report")
    )
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="cle_report_entries",
        verbose_name=_("registration"),
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="cle_report_entries",
        verbose_name=_("person"),
    )
    recipient = models.CharField(_("recipient"), max_length=200)
    sent_at = models.DateTimeField(_("sent"))
    fields_sent = models.CharField(_("data disclosed"), max_length=300)

    class Meta:
        verbose_name = _("CLE report entry")
        verbose_name_plural = _("CLE report entries")
        constraints = [
            models.UniqueConstraint(fields=["report", "registration"], name="cle_report_entry_once")
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.sent_at:%Y-%m-%d}"
