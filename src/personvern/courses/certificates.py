"""The course certificate (kursbevis): a PDF a participant downloads from Min side (R14).

It documents one attended course towards continuing legal education: who
organised it (the policy's controller), who took part, when, what the course
was, and its hours by the three kinds the Bar Association counts. Only an
attended registration that is not cancelled has one
(:func:`certificate_registration`); every download is audited
(:func:`certificate_download`).

The PDF is drawn with reportlab's standard Helvetica, whose WinAnsi encoding
covers Norwegian letters (æ, ø, å), so no font file is bundled.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db import transaction
from django.db.models import QuerySet
from django.template.defaultfilters import floatformat
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from personvern.core.audit import audit_log
from personvern.core.models import Person
from personvern.core.policy import current_policy
from personvern.courses.lists import ACTIVITY
from personvern.courses.models import Registration, RegistrationStatus
from personvern.courses.selectors import LEGAL_TZ


def certificate_registrations(person: Person) -> QuerySet[Registration]:
    """The person's registrations that have a certificate: attended, not cancelled."""
    return (
        Registration.objects.select_related("course", "course__venue", "person")
        .filter(person=person, attended=True)
        .exclude(status=RegistrationStatus.CANCELLED)
    )


def certificate_registration(person: Person, registration_id: int) -> Registration | None:
    """The person's own registration ``registration_id`` if it has a certificate, else None."""
    return certificate_registrations(person).filter(pk=registration_id).first()


@dataclass(frozen=True)
class Certificate:
    filename: str
    content: bytes


def _hours(value: Decimal) -> str:
    """Hours as the language writes them, decimals only when there are any: "6", "1,5"."""
    return floatformat(value, "-2")


def _when(starts: datetime, ends: datetime) -> str:
    first, last = timezone.localtime(starts, LEGAL_TZ), timezone.localtime(ends, LEGAL_TZ)
    if first.date() == last.date():
        return _day(first)
    return f"{_day(first)} \u2013 {_day(last)}"


def _day(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value, LEGAL_TZ), "DATE_FORMAT")


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def certificate_pdf(
    registration: Registration, *, lang: str, now: datetime | None = None
) -> Certificate:
    """Draw the certificate of an attended registration in ``lang`` (``nb`` or ``en``)."""
    now = now or timezone.now()
    course = registration.course
    person = registration.person
    controller = current_policy().controller
    with translation.override(lang):
        styles = getSampleStyleSheet()
        body = ParagraphStyle("body", parent=styles["BodyText"], fontName="Helvetica",
                              fontSize=11, leading=15, alignment=TA_LEFT)
        small = ParagraphStyle("small", parent=body, fontSize=9, leading=12,
                               textColor=colors.HexColor("#444444"))
        title = ParagraphStyle("title", parent=styles["Title"], fontName="Helvetica-Bold",
                               fontSize=22, leading=28, alignment=TA_LEFT)
        heading = ParagraphStyle("heading", parent=styles["Heading2"],
                                 fontName="Helvetica-Bold", fontSize=14, leading=18)
        name = ParagraphStyle("name", parent=body, fontName="Helvetica-Bold",
                              fontSize=16, leading=20)
        organiser = _("Organiser: %(name)s, org. no. %(org_no)s") % {
            "name": controller.name, "org_no": controller.org_no,
        }
        place = (
            _("Digital course") if not course.is_physical
            else f"{course.venue.name}" if course.venue else ""
        )
        story = [
            _p(_("Course certificate"), title),
            Spacer(1, 6 * mm),
            _p(_("This certifies that"), body),
            _p(person.full_name or str(person), name),
            _p(_("attended the course"), body),
            Spacer(1, 3 * mm),
            _p(course.title, heading),
        ]
        if course.summary:
            story.append(_p(course.summary, body))
        story += [
            Spacer(1, 3 * mm),
            _p(_("Date: %(when)s") % {"when": _when(course.starts_at, course.ends_at)}, body),
            _p(_("Place: %(place)s") % {"place": place}, body),
            _p(organiser, body),
            Spacer(1, 6 * mm),
            _p(_("Hours towards continuing legal education"), heading),
        ]
        rows = [
            [_("Kind of hours"), _("Hours")],
            [_("Legal"), _hours(course.legal_hours)],
            [_("Legal ethics"), _hours(course.ethics_hours)],
            [_("Non-legal"), _hours(course.non_legal_hours)],
            [_("Total"), _hours(course.total_hours)],
        ]
        table = Table(rows, colWidths=[90 * mm, 30 * mm], hAlign="LEFT")
        table.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), "Helvetica", 11),
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 11),
            ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 11),
            ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
            ("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.black),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
        ]))
        story += [
            table,
            Spacer(1, 10 * mm),
            _p(
                _("Issued %(day)s · Reference %(reference)s") % {
                    "day": _day(now), "reference": f"{course.slug}/{registration.pk}",
                },
                small,
            ),
            _p(" \u00b7 ".join([controller.name, *controller.postal_address[1:]]), small),
        ]
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm,
            topMargin=25 * mm, bottomMargin=25 * mm,
            title=_("Course certificate: %(title)s") % {"title": course.title},
            author=controller.name, subject=course.title, creator=controller.site_name or "",
            lang=lang,
        )
        document.build(story)
        # Translators: the certificate's file name, without spaces or special letters.
        stem = _("course-certificate")
        filename = f"{stem}-{course.slug}.pdf"
    return Certificate(filename=filename, content=buffer.getvalue())


def certificate_download(
    *, registration: Registration, lang: str, actor: str, now: datetime | None = None
) -> Certificate:
    """The certificate of ``registration``, its download audited in the same transaction."""
    now = now or timezone.now()
    certificate = certificate_pdf(registration, lang=lang, now=now)
    with transaction.atomic():
        audit_log(
            actor=actor, action="registration.certificate_downloaded",
            person=registration.person, activity=ACTIVITY,
            data={
                "course": registration.course_id, "registration": registration.pk,
                "lang": lang, "bytes": len(certificate.content),
            },
            now=now,
        )
    return certificate
