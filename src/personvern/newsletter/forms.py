"""The public newsletter sign-up form: the address, and a name if the person likes.

The form only checks shapes; what happens next (a confirmation link by e-mail)
is :func:`personvern.newsletter.services.newsletter_signup_request`.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from personvern.core.services import normalise_email

EMAIL_HELP = _("We send a link to this address. You receive nothing until you have opened it "
               "and confirmed.")
EMAIL_REQUIRED = _("Write the e-mail address the newsletter should go to.")
EMAIL_INVALID = _("Enter an e-mail address such as kari@example.no.")


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, help_text=EMAIL_HELP,
        error_messages={"invalid": EMAIL_INVALID, "required": EMAIL_REQUIRED},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    given_name = forms.CharField(
        label=_("Given name (optional)"), max_length=150, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    family_name = forms.CharField(
        label=_("Family name (optional)"), max_length=150, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data["email"])
        except ValidationError as exc:
            raise ValidationError(EMAIL_INVALID) from exc
