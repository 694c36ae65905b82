"""The courses app's personal data, declared for the engines (R12, R11, R14).

Registrations belong to the activity ``course-participation``. The policy keeps
them (R14) 10 years after the course for members of Advokatforeningen (cohort
``advokatforeningen-member``, to document their mandatory continuing
education) and 5 years after the end of the customer relationship for everyone
else. The engines read this declaration; no retention logic lives here.

Hotel transfer entries record each hand-over of a participant's data to the
course's hotel (R11) and belong to the same activity with the same anchors, so
the record of a disclosure lives as long as the registration it disclosed.

R9: the hotel is bound by a data processing agreement to use the data for that
course's stay only and to delete it afterwards. We cannot reach into the
hotel's systems; what we enforce is that only the needed fields of only the
overnight participants are sent, and that every hand-over is recorded and shown
to the subject as a recipient.

Hotel stay data (dietary needs, overnight stay, arrival and departure) is needed
only until the stay is over, and dietary needs may reveal health or belief. So
it is its own record, :class:`~personvern.courses.models.HotelStay` (a proxy of
the registration), declared for the activity ``hotel-stay``, whose rule clears
those fields shortly after the course ends (R9, R14). The registration itself
stays for its own period.
"""

from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.courses.models import (
    HOTEL_STAY_CLEARED,
    CleReportEntry,
    Evaluation,
    HotelStay,
    HotelTransferEntry,
    Registration,
)
from personvern.courses.selectors import advokatforeningen_member_at_course_end

ACTIVITY = "course-participation"

MANDATORY_EDUCATION_EXCEPTION = _(
    "Kept to document mandatory continuing education for members of the Norwegian Bar "
    "Association (course, dates, hours and attendance)."
)

register(
    Holder(
        model=Registration,
        activity=ACTIVITY,
        person="person",
        anchors={
            "course-end": "course__ends_at",
            # The customer relationship is active until the person's last course
            # ends; the course services keep that date on each of their rows.
            "customer-relationship-end": "relationship_ends_at",
        },
        cohorts={
            "advokatforeningen-member": lambda: advokatforeningen_member_at_course_end(
                "person", "course__ends_at"
            ),
        },
        fields=[
            ("course", _("course")),
            ("status", _("status")),
            ("registered_at", _("registered")),
            ("employer", _("employer")),
            ("invoice_reference", _("invoice reference")),
            # The stay (diet, nights) is shown once, under its own holder (HotelStay).
            ("attended", _("attended")),
            ("cancelled_at", _("cancelled")),
            ("language", _("language")),
        ],
        portable=True,
        erase="delete",
        # A kept registration documents the course, its dates, hours and attendance;
        # nothing else about the stay, the invoice or the person's diet stays.
        erasure_clears={
            "employer": "",
            "invoice_reference": "",
            "dietary_needs": "",
            "overnight_stay": False,
            "arrival_date": None,
            "departure_date": None,
            "language": "",
        },
        erasure_exceptions={
            "mandatory-continuing-education": (
                MANDATORY_EDUCATION_EXCEPTION,
                lambda: advokatforeningen_member_at_course_end("person", "course__ends_at"),
            ),
        },
    )
)

register(
    Holder(
        model=HotelTransferEntry,
        activity=ACTIVITY,
        person="person",
        parent="registration",
        anchors={
            "course-end": "registration__course__ends_at",
            "customer-relationship-end": "registration__relationship_ends_at",
        },
        cohorts={
            "advokatforeningen-member": lambda: advokatforeningen_member_at_course_end(
                "person", "registration__course__ends_at"
            ),
        },
        fields=[
            ("recipient", _("recipient")),
            ("sent_at", _("sent")),
            ("fields_sent", _("data disclosed")),
        ],
        portable=False,
        erase="delete",
    )
)

# Each report of a member's attended hours to Advokatforeningen (R3): a
# recorded disclosure (the ``recipient`` field), kept as long as the
# registration whose hours it reported (ADR 0026).
register(
    Holder(
        model=CleReportEntry,
        activity=ACTIVITY,
        person="person",
        parent="registration",
        anchors={
            "course-end": "registration__course__ends_at",
            "customer-relationship-end": "registration__relationship_ends_at",
        },
        cohorts={
            "advokatforeningen-member": lambda: advokatforeningen_member_at_course_end(
                "person", "registration__course__ends_at"
            ),
        },
        fields=[
            ("recipient", _("recipient")),
            ("sent_at", _("sent")),
            ("fields_sent", _("data disclosed")),
        ],
        portable=False,
        erase="delete",
    )
)

register(
    Holder(
        model=HotelStay,
        activity="hotel-stay",
        person="person",
        anchors={"course-end": "course__ends_at"},
        fields=[
            ("course", _("course")),
            ("dietary_needs", _("dietary needs")),
            ("overnight_stay", _("overnight stay")),
            ("arrival_date", _("arrival")),
            ("departure_date", _("departure")),
        ],
        portable=True,
        # Never deleted through this holder: the row is the registration. Erasure
        # and retention clear the stay fields; the registration's own holder decides
        # about the rest.
        erase="anonymise",
        anonymise=HOTEL_STAY_CLEARED,
    )
)

register(
    Holder(
        model=Evaluation,
        activity="market-research",
        person="person",
        anchors={"received": "submitted_at"},
        fields=[
            ("course", _("course")),
            ("rating", _("rating (1–5)")),
            ("comment", _("comment")),
            ("submitted_at", _("submitted")),
        ],
        # Legitimate interest: not portable (Art. 20 covers consent and contract).
        portable=False,
        erase="delete",
        # Anonymised after the policy's period: the rating stays for statistics.
        anonymise={"person": None, "comment": ""},
    )
)
