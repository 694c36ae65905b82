"""The project's form renderer (``FORM_RENDERER``): Designsystemet markup for every form.

``{{ form }}`` renders ``site/forms/div.html`` (an error summary when the form has
errors, the non-field errors, then each field) and ``{{ field.as_field_group }}``
renders ``site/forms/field.html``:

- a ``ds-field`` wrapper with a ``ds-label``, the help text as the field's
  description (``data-field="description"``, id ``<id>_helptext``), the control
  with the ``ds-input`` class, and the errors as a ``ds-validation-message``
  right after it (the ``.errorlist`` list, id ``<id>_error``);
- the control points at both with ``aria-describedby`` and has
  ``aria-invalid="true"`` when it has errors (Django's own attributes);
- radio buttons and multiple check boxes in a ``ds-fieldset`` with a legend.

Widget templates stay Django's own, except where the project's template
directory (``src/personvern/templates``, searched first, as by the main
engine) overrides one: the admin's split date/time widget gets a label for each
of its inputs (``admin/widgets/split_datetime.html``). The admin renders its
forms with its own templates and is not otherwise affected. The tags the
templates use are in ``site/templatetags/site_forms.py``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import django.forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates


class SiteFormRenderer(DjangoTemplates):
    """Django's template renderer with the site's form and field templates."""

    form_template_name = "site/forms/div.html"
    field_template_name = "site/forms/field.html"

    @cached_property
    def engine(self) -> Any:
        # Django's engine for forms, with the project's template directory first (an
        # app cannot override an admin widget: django.contrib.admin comes first).
        return self.backend({
            "APP_DIRS": True,
            "DIRS": [Path(settings.BASE_DIR) / "templates",
                     Path(django.forms.__file__).parent / "templates"],
            "NAME": "djangoforms",
            "OPTIONS": {},
        })
