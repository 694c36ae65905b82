"""Every admin's split date/time field gives its date and its time input a label.

Django's AdminSplitDateTime writes "Date:" and "Time:" as bare text, so neither
input has an accessible name (axe: label). The project's form renderer finds
``templates/admin/widgets/split_datetime.html`` first, which labels each input.
The browser check of the pages is ``tests/browser/test_backoffice_accessibility.py``.
"""

from __future__ import annotations

import pytest
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import translation

from personvern.core.roles import MARKETING


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
