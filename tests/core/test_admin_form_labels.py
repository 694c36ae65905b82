"""Every input of the back office's forms has a label (axe: label, select-name).

Django's AdminSplitDateTime writes "Date:" and "Time:" as bare text, so neither
input has an accessible name; the project's form renderer finds
``templates/admin/widgets/split_datetime.html`` first, which labels each input.
Django's tabular inline names its columns in the table's heading only; our
``templates/admin/edit_inline/tabular.html`` gives each row's input a visually
hidden label. The browser check of the pages is
``tests/browser/test_backoffice_accessibility.py``.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import translation

from personvern.core.roles import ACCOUNT_MANAGER, MARKETING


def test_the_widget_labels_its_date_and_its_time_input() -> None:
    with translation.override("nb"):
        html = AdminSplitDateTime().render("ends_at", None, {"id": "id_ends_at"})
    assert '<label for="id_ends_at_0" class="datetime-part">Dato:</label>' in html
    assert '<label for="id_ends_at_1" class="datetime-part">Tid:</label>' in html


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "date", "time"), [("nb", "Dato:", "Tid:"),
                                                     ("en", "Date:", "Time:")])
def test_an_admin_change_form_labels_both_inputs(lang: str, date: str, time: str) -> None:
    user = User.objects.create_user("mia", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client = Client()
    client.force_login(user)
    html = client.get("/admin/competitions/competition/add/",
                      headers={"accept-language": lang}).content.decode()
    assert f'<label for="id_ends_at_0" class="datetime-part">{date}</label>' in html
    assert f'<label for="id_ends_at_1" class="datetime-part">{time}</label>' in html


@pytest.mark.django_db
def test_each_input_of_a_tabular_inline_row_has_a_label() -> None:
    user = User.objects.create_user("anne", is_staff=True)
    user.groups.add(Group.objects.get(name=ACCOUNT_MANAGER))
    client = Client()
    client.force_login(user)
    html = client.get("/admin/customers/customer/add/",
                      headers={"accept-language": "nb"}).content.decode()
    tags = re.findall(r'<(?:input|select)[^>]*\bid="id_(?:contacts|invoices)-[^"]*-0-[^>]*>',
                      html)
    inputs = [re.search(r'\bid="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
              for tag in tags if 'type="hidden"' not in tag]
    assert {i.rsplit("-", 1)[1] for i in inputs} >= {"given_name", "email", "number", "person"}
    for input_id in inputs:
        assert re.search(rf'<label for="{input_id}" class="visually-hidden">[^<]+</label>',
                         html), input_id
    assert re.search(r'<label for="id_contacts-[^"]*-0-given_name" class="visually-hidden">'
                     r"Fornavn</label>", html)
