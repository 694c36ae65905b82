"""Forms of the rights app's public pages and Min side: they validate; services act."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from personvern.rights.models import CLASSIFIED_TYPES, RequestType

DETAILS_NEEDED = {
    RequestType.RECTIFICATION: _("Say what is wrong or missing, and what it should be."),
    RequestType.OBJECTION: _("Say which processing you object to."),
}


class VerifyCodeForm(forms.Form):
    """The six-digit code from the confirmation e-mail."""

    code = forms.RegexField(
        label=_("Confirmation code"),
        regex=r"^\s*\d{6}\s*$",
        max_length=20,
        help_text=_("The six digits in the e-mail we sent you."),
        error_messages={"invalid": _("The code is six digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class PortalRequestForm(forms.Form):
    """A new privacy request made on Min side."""

    type = forms.ChoiceField(
        label=_("What do you ask for?"),
        choices=[(t.value, capfirst(t.label)) for t in RequestType if t in CLASSIFIED_TYPES],
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "For a correction: what is wrong and what it should be. For an objection: which "
            "processing. Otherwise optional."
        ),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        kind = data.get("type")
        if kind in DETAILS_NEEDED and not str(data.get("details", "")).strip():
            self.add_error("details", DETAILS_NEEDED[RequestType(kind)])
        return data
