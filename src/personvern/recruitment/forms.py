"""The public form of an open job application (R24, R27). It validates; the service works."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from personvern.recruitment.models import DocumentKind
from personvern.recruitment.services import DocumentUpload
from personvern.site.uploads import ALLOWED, check_size, check_upload

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,38}$")
NOT_A_PHONE = _("Write the phone number with digits, such as +47 22 33 44 55.")
MESSAGE_MAX = 2000


def _file_field(label: _StrPromise, help_text: _StrPromise) -> forms.FileField:
    return forms.FileField(
        label=label,
        help_text=help_text,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(ALLOWED))}),
        error_messages={"required": _("Choose a file to upload.")},
    )


class OpenApplicationForm(forms.Form):
    """An open (general) application: who you are, a short message, CV and letter."""

    given_name = forms.CharField(label=_("Given name"), max_length=150)
    family_name = forms.CharField(label=_("Family name"), max_length=150)
    # 254: the e-mail identity's column (see the secure-message form).
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254,
        help_text=_("We send a receipt to this address and contact you there."),
    )
    phone = forms.CharField(label=_("Phone (optional)"), max_length=40, required=False)
    message = forms.CharField(
        label=_("Short message"), widget=forms.Textarea(attrs={"rows": 5}),
        max_length=MESSAGE_MAX,
        help_text=_("A few lines on the kind of work you are looking for."),
    )
    cv = _file_field(_("CV"), _("Your curriculum vitae."))
    letter = _file_field(_("Application letter"), _("Your application letter."))

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data.get("phone", "").strip()
        if phone and not PHONE.match(phone):
            raise ValidationError(NOT_A_PHONE, code="phone")
        return phone

    def _document(self, name: str, kind: str) -> DocumentUpload | None:
        file: UploadedFile | None = self.cleaned_data.get(name)
        if not file:
            return None
        check_size(file.size or 0)
        upload = check_upload(file.name or "", file.read())
        return DocumentUpload(kind=kind, filename=upload.filename,
                              content_type=upload.content_type, content=upload.content,
                              field=name)

    def clean_cv(self) -> DocumentUpload | None:
        return self._document("cv", DocumentKind.CV)

    def clean_letter(self) -> DocumentUpload | None:
        return self._document("letter", DocumentKind.LETTER)
