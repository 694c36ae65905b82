"""The public registration form: it asks only what the course needs (R12).

Every course asks for name, e-mail, employer and an optional invoice
reference. A physical course also asks for dietary needs; a physical course
that offers a hotel stay also asks whether the person stays overnight and when
they arrive and leave. A digital course never shows those fields. The form only
checks shapes; the rules live in :func:`personvern.courses.services.registration_create`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from personvern.courses.models import Course


class RegistrationForm(forms.Form):
    """Registration for ``course``; build it with ``RegistrationForm(course=…, data=…)``."""

    given_name = forms.CharField(label=_("Given name"), max_length=150)
    family_name = forms.CharField(label=_("Family name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    employer = forms.CharField(
        label=_("Employer"),
        max_length=200,
        required=False,
        help_text=_("Shown on the participant list that the participants receive."),
    )
    invoice_reference = forms.CharField(
        label=_("Invoice reference"), max_length=100, required=False
    )
    dietary_needs = forms.CharField(
        label=_("Dietary needs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only if you need it. We use it to arrange the meals at the course, and do not "
            "pass it on to the hotel."
        ),
    )
    overnight_stay = forms.BooleanField(
        label=_("I want to stay overnight at the course hotel"), required=False
    )
    arrival_date = forms.DateField(
        label=_("Arrival"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    departure_date = forms.DateField(
        label=_("Departure"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course = course
        for name in self.unused_fields(course):
            del self.fields[name]

    @staticmethod
    def unused_fields(course: Course) -> list[str]:
        """The fields this course does not need, and so never asks for."""
        if not course.is_physical:
            return ["dietary_needs", "overnight_stay", "arrival_date", "departure_date"]
        if not course.hotel_stay_offered:
            return ["overnight_stay", "arrival_date", "departure_date"]
        return []

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data as keyword arguments of ``registration_create``."""
        return {name: self.cleaned_data[name] for name in self.fields}


class CatalogueFilterForm(forms.Form):
    """The course list's search and filters: a plain GET form, every field optional.

    The subject and month choices are those of the upcoming courses; a value that
    is not among them (an old bookmark) is reported next to its field and left out.
    """

    q = forms.CharField(
        label=_("Search"), required=False, max_length=100,
        help_text=_("Words in the title, subject or summary."),
    )
    subject = forms.ChoiceField(label=_("Subject"), required=False)
    month = forms.ChoiceField(label=_("Month"), required=False)
    kind = forms.ChoiceField(
        label=_("Format"), required=False,
        choices=[("", _("All formats")), ("physical", _("On site")), ("digital", _("Digital"))],
    )

    def __init__(
        self, *args: Any, subjects: list[str], months: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        subject = self.fields["subject"]
        month = self.fields["month"]
        assert isinstance(subject, forms.ChoiceField) and isinstance(month, forms.ChoiceField)
        subject.choices = [("", _("All subjects")), *((s, s) for s in subjects)]
        month.choices = [("", _("All months")), *months]

    def filters(self) -> dict[str, str]:
        """The valid filters as keyword arguments of ``course_catalogue``."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": data.get("q", ""), "subject": data.get("subject", ""),
            "month": data.get("month", ""), "kind": data.get("kind", ""),
        }


class StaffRegistrationForm(RegistrationForm):
    """A registration made by staff on a participant's behalf (a phone booking).

    The public form's fields for the course, plus the participant's language
    (the mails are written in it) and whether to send the confirmation or
    waiting-list mail, on by default.
    """

    language = forms.ChoiceField(label=_("Language of the participant's mails"))
    send_confirmation = forms.BooleanField(
        label=_("Send the confirmation (or waiting-list place) by e-mail"),
        required=False, initial=True,
        help_text=_("Leave it on unless the participant has asked for no mail."),
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        from django.conf import settings

        super().__init__(*args, course=course, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = list(settings.LANGUAGES)
        language.initial = settings.LANGUAGE_CODE
        if "overnight_stay" in self.fields:
            self.fields["overnight_stay"].label = _("Stays overnight at the course hotel")
