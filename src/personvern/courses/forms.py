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
