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

Widget templates stay Django's own; the admin renders its forms with its own
templates and is not affected. The tags the templates use are in
``site/templatetags/site_forms.py``.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates


class SiteFormRenderer(DjangoTemplates):
    """Django's template renderer with the site's form and field templates."""

    form_template_name = "site/forms/div.html"
    field_template_name = "site/forms/field.html"
