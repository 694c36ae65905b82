"""The public entry form of a competition (R23): name, contact, workplace, the entry.

The form checks shapes only; the rules (open until the end, one entry per
person) are :func:`personvern.competitions.services.entry_submit`'s.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from personvern.core.services import normalise_email

EMAIL_INVALID = _("Enter an e-mail address such as kari@example.no.")
EMAIL_REQUIRED = _("Write your e-mail address, so that we can send you a receipt.")
PHONE_INVALID = _("Enter a phone number of 8 to 15 digits, such as 912 34 567 or +47 912 34 567.")
CONTRIBUTION_EMPTY = _("Write your entry: the answer, the text or the idea you take part with.")
_PHONE = re.compile(r"\+?[0-9 ]{8,20}")
#: The longest entry accepted (about ten pages of text).
MAX_CONTRIBUTION = 20_000


class EntryForm(forms.Form):
    given_name = forms.CharField(
        label=_("Given name"), max_length=150,
        error_messages={"required": _("Write your given name.")},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    family_name = forms.CharField(
        label=_("Family name"), max_length=150,
        error_messages={"required": _("Write your family name.")},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254,
        error_messages={"invalid": EMAIL_INVALID, "required": EMAIL_REQUIRED},
        help_text=_("We send a receipt here, and give you feedback on your entry."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"), max_length=40, required=False,
        help_text=_("Only if you would rather we called you, for example if you win."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    workplace = forms.CharField(
        label=_("Workplace (optional)"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    contribution = forms.CharField(
        label=_("Your entry"), max_length=MAX_CONTRIBUTION,
        error_messages={"required": CONTRIBUTION_EMPTY},
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data["email"])
        except ValidationError as exc:
            raise ValidationError(EMAIL_INVALID) from exc

    def clean_phone(self) -> str:
        phone = " ".join(self.cleaned_data["phone"].split())
        digits = phone.replace(" ", "").lstrip("+")
        if phone and (not _PHONE.fullmatch(phone) or not 8 <= len(digits) <= 15):
            raise ValidationError(PHONE_INVALID)
        return phone

    def clean_contribution(self) -> str:
        contribution = self.cleaned_data["contribution"].strip()
        if not contribution:
            raise ValidationError(CONTRIBUTION_EMPTY)
        return contribution

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data as keyword arguments of ``entry_submit``."""
        return {name: self.cleaned_data[name] for name in self.fields}
