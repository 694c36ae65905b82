"""The project-wide form templates: Designsystemet markup, the error next to its field."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation


class SampleForm(forms.Form):
    email = forms.EmailField(label="E-mail", help_text="We write to this address.")
    message = forms.CharField(label="Message", widget=forms.Textarea)
    topic = forms.ChoiceField(label="Topic", choices=[("a", "Courses"), ("b", "Other")])
    kind = forms.ChoiceField(
        label="Kind", choices=[("p", "Physical"), ("d", "Digital")], widget=forms.RadioSelect
    )
    agree = forms.BooleanField(label="I agree", help_text="Needed to go on.")

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("topic") == "b":
            raise forms.ValidationError("Other topics are not taken here.")
        return data


def _html(form: forms.Form, template: str = "{{ form }}") -> str:
    with translation.override("en"):
        return Template(template).render(Context({"form": form}))


def _tag(html: str, element_id: str) -> str:
    match = re.search(rf'<(input|textarea|select)[^>]*id="{element_id}"[^>]*>', html)
    assert match, f"no control with id {element_id}"
    return match.group(0)


def test_each_field_has_a_ds_field_with_label_description_and_input() -> None:
    html = _html(SampleForm())
    assert html.count('class="ds-field"') >= 5
    assert '<label class="ds-label" for="id_email">E-mail</label>' in html
    assert '<div data-field="description" id="id_email_helptext">We write to this address.' in html
    assert 'class="ds-input"' in _tag(html, "id_email")
    assert 'aria-describedby="id_email_helptext"' in _tag(html, "id_email")
    assert 'class="ds-input"' in _tag(html, "id_message")  # textarea
    assert 'class="ds-input"' in _tag(html, "id_topic")  # select
    check = _tag(html, "id_agree")
    assert 'type="checkbox"' in check and 'class="ds-input"' in check
    # Radio buttons: a fieldset with a legend, each option a ds-field of its own.
    assert re.search(r'<fieldset class="ds-fieldset">\s*<legend class="ds-label">Kind</legend>',
                     html)
    assert 'class="ds-input"' in _tag(html, "id_kind_0")
    assert '<label class="ds-label" for="id_kind_1">Digital</label>' in html
    assert "ds-error-summary" not in html and "aria-invalid" not in html


def test_an_error_is_next_to_its_field_and_tied_to_it() -> None:
    form = SampleForm({"email": "not an address", "message": "Hi", "topic": "a", "agree": ""})
    html = _html(form)
    email = _tag(html, "id_email")
    assert 'aria-invalid="true"' in email
    assert 'aria-describedby="id_email_helptext id_email_error"' in email
    # The error list (class errorlist, id <id>_error) sits in the email field's own
    # ds-field, as its validation message, right after the input.
    field = re.search(r'<div class="ds-field">(?:(?!<div class="ds-field">).)*?id="id_email"'
                      r'.*?</ul></div>', html, re.S)
    assert field
    assert re.search(r'<div class="ds-validation-message" data-field="validation">'
                     r'<ul class="errorlist" id="id_email_error"><li>Enter a valid email address.',
                     field.group(0))
    # Radio buttons: the fieldset carries the description of the error.
    assert '<fieldset class="ds-fieldset" aria-describedby="id_kind_error">' in html
    assert 'aria-invalid="true"' in _tag(html, "id_kind_0")
    # A field without errors is not marked invalid.
    assert "aria-invalid" not in _tag(html, "id_message")


def test_the_error_summary_links_to_the_fields() -> None:
    html = _html(SampleForm({"email": "x", "message": "", "topic": "a", "kind": "p",
                             "agree": "on"}))
    summary = html[html.index('class="ds-error-summary"'):html.index("</div>")]
    assert '<a href="#id_email">E-mail: Enter a valid email address.</a>' in summary
    assert '<a href="#id_message">Message: This field is required.</a>' in summary


def test_non_field_errors_are_shown_with_the_errorlist_class() -> None:
    html = _html(SampleForm({"email": "a@example.no", "message": "Hi", "topic": "b", "kind": "p",
                             "agree": "on"}))
    assert '<ul class="errorlist nonfield"><li>Other topics are not taken here.</li></ul>' in html


def test_as_field_group_uses_the_same_template() -> None:
    form = SampleForm({"email": "x"})
    html = _html(form, "{% for field in form %}{{ field.as_field_group }}{% endfor %}")
    assert 'class="ds-validation-message"' in html and 'id="id_email_error"' in html


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_summary_heading_is_translated(lang: str) -> None:
    with translation.override(lang):
        html = Template("{{ form }}").render(Context({"form": SampleForm({"email": "x"})}))
    heading = re.search(r'<h2 class="ds-heading" data-size="xs">([^<]+)</h2>', html)
    assert heading
    expected = "Please correct the following:" if lang == "en" else "Rett dette:"
    assert heading.group(1) == expected
