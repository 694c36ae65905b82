"""Tags of the project-wide form templates (``site/forms/``; see ``site/forms_renderer.py``).

    ``{% ds_control field %}``       the field's widget with the ``ds-input`` class
    ``{% ds_label field %}``         its label with the ``ds-label`` class, no colon
    ``{% ds_option option %}``       one radio button or check box of a choice field
    ``{{ field|is_check }}``         whether the field is a single check box
    ``{{ field|is_choice_list }}``   whether it is a list of radio buttons / check boxes
    ``{{ fields|error_links }}``     (field, message) pairs for the error summary
"""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_NO_DS_INPUT = (forms.FileInput, forms.HiddenInput)


def _with_class(attrs: dict[str, Any], name: str) -> dict[str, Any]:
    classes = str(attrs.get("class", "")).split()
    if name not in classes:
        classes.append(name)
    return {**attrs, "class": " ".join(classes)}


@register.simple_tag
def ds_control(field: BoundField) -> SafeString:
    """The widget; ``aria-describedby`` and ``aria-invalid`` are Django's own (5.2)."""
    widget = field.field.widget
    attrs = dict(widget.attrs)
    if isinstance(widget, forms.FileInput):
        attrs = _with_class(attrs, "file-input")
    elif not isinstance(widget, _NO_DS_INPUT):
        attrs = _with_class(attrs, "ds-input")
    return field.as_widget(attrs=attrs)


@register.simple_tag
def ds_label(field: BoundField, tag: str = "") -> SafeString:
    """``<label class="ds-label" for=…>`` (or a ``<legend>`` with ``tag="legend"``)."""
    if tag == "legend":
        return field.legend_tag(attrs={"class": "ds-label"}, label_suffix="")
    return field.label_tag(attrs={"class": "ds-label"}, label_suffix="")


@register.simple_tag
def ds_option(option: BoundWidget) -> SafeString:
    """A radio button or check box of a choice list, with the ``ds-input`` class."""
    data = dict(option.data)
    data["attrs"] = _with_class(dict(data.get("attrs") or {}), "ds-input")
    data["wrap_label"] = False
    # Django's widget templates escape every value; the result is HTML.
    return mark_safe(option.renderer.render(option.template_name, {"widget": data}))  # noqa: S308


@register.filter
def is_check(field: BoundField) -> bool:
    """A single check box (label after the box)."""
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_choice_list(field: BoundField) -> bool:
    """Radio buttons or several check boxes (a fieldset of options)."""
    return isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)


@register.filter
def error_links(fields: list[tuple[BoundField, Any]]) -> list[tuple[BoundField, str]]:
    """(field, message) for every error of a visible field: the error summary's links."""
    return [(field, str(error)) for field, errors in fields for error in errors]
