"""The admin's yes/no icons with a text alternative in the reader's language.

Django draws a boolean as an icon whose ``alt`` is ``True``, ``False`` or
``None`` in English whatever the language (``admin_list._boolean_icon``); a
screen reader in nb reads it out as such. Every caller in Django looks the
function up in that module when it runs, so replacing it there is enough.
"""

from __future__ import annotations

from django.contrib.admin.templatetags import admin_list
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

ICONS = {True: "yes", False: "no", None: "unknown"}
WORDS = {True: _("Yes"), False: _("No"), None: _("Unknown")}


def boolean_icon(field_val: bool | None) -> SafeString:
    icon_url = static(f"admin/img/icon-{ICONS[field_val]}.svg")
    return format_html('<img src="{}" alt="{}">', icon_url, WORDS[field_val])


def install() -> None:
    admin_list._boolean_icon = boolean_icon  # type: ignore[attr-defined]
