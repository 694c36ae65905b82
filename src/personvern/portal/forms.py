"""Min side's forms: they validate input; the services do the work."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    """The address to mail a sign-in link to."""

    # 254: the e-mail identity's column.
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("The address you gave us, for example when you registered for a course."),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)
