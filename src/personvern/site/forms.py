"""Forms of the public site. They validate input; the services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from personvern.site.services import PRIVACY_NO_FILE, TOPICS, is_privacy_message
from personvern.site.uploads import ALLOWED, check_size, check_upload


class SecureMessageForm(forms.Form):
    """A message to us, with an optional file, sent over HTTPS instead of e-mail (R20).

    A privacy question (its topic, or the marker in its subject) goes to the data
    protection officer as a privacy request (R5, R32) and takes no file.
    """

    topic = forms.ChoiceField(
        label=_("What is your message about?"),
        choices=list(TOPICS.items()),
        widget=forms.RadioSelect,
        help_text=_(
            "A privacy question goes straight to our data protection officer as a privacy "
            "request, answered within the time the law sets."
        ),
        error_messages={"required": _("Choose what your message is about.")},
    )
    given_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    # 254: the e-mail identity's column (forms.EmailField alone allows 320, which
    # PostgreSQL refused with a 500 and SQLite stored).
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We answer you at this address. Our answer will not repeat what you sent."),
    )
    # 160: an inquiry's subject also holds its case number and topic (site.services).
    subject = forms.CharField(label=_("Subject"), max_length=160)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea, max_length=20000)
    attachment = forms.FileField(
        label=_("File (optional)"),
        required=False,
        help_text=_("Not with a privacy question: the data protection officer asks for "
                    "documents if they are needed."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(ALLOWED))}),
    )

    def clean_attachment(self) -> tuple[str, bytes] | None:
        """The file as ``(name, content)``, checked for size before it is read."""
        file: UploadedFile | None = self.cleaned_data.get("attachment")
        if not file:
            return None
        check_size(file.size or 0)
        content = file.read()
        upload = check_upload(file.name or "", content)
        return upload.filename, upload.content

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        topic, subject = data.get("topic"), data.get("subject")
        privacy = topic is not None and is_privacy_message(topic=topic, subject=subject or "")
        if privacy and data.get("attachment"):
            self.add_error("attachment", PRIVACY_NO_FILE)
        return data


class ConsentChoiceForm(forms.Form):
    """The visitor's answer to the analytics question."""

    choice = forms.ChoiceField(choices=[("granted", "granted"), ("declined", "declined")])
    next = forms.CharField(required=False, max_length=2000)
