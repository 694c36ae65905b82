"""The back office speaks Norwegian Bokmål (and English): its title, Django's own admin
strings where Django's nb catalogue lacks them, and our lists newest first."""

from __future__ import annotations

import gettext
import re
from datetime import date, timedelta
from pathlib import Path

import django
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from personvern.core import services
from personvern.core.models import RestrictionGround

DJANGO = Path(django.__file__).parent
PROJECT_NB = Path(__file__).resolve().parents[2] / "src" / "personvern" / "locale" / "nb"
#: The Django catalogues whose strings staff meet in the back office.
CATALOGUES = [
    ("contrib/admin", "django"), ("contrib/admin", "djangojs"), ("contrib/auth", "django"),
]


def _msgids(po: Path) -> set[str]:
    """Every msgid (with its msgctxt, as gettext keys it) of a .po file."""
    keys = set()
    for block in re.split(r"\n\s*\n", po.read_text(encoding="utf-8")):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block + "\n", re.M)
        if not msgid or block.lstrip().startswith("#~"):
            continue
        text = "".join(re.findall(r'"(.*)"', msgid.group(1)))
        text = text.replace('\\"', '"').replace("\\n", "\n")
        context = re.search(r'^msgctxt "(.*)"', block, re.M)
        if text:
            keys.add(f"{context.group(1)}\x04{text}" if context else text)
    return keys


def _mo_keys(path: Path) -> set[str]:
    with path.open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    return {key if isinstance(key, str) else key[0] for key in catalog}


@pytest.mark.parametrize(("app", "domain"), CATALOGUES)
def test_every_admin_string_django_lacks_in_nb_is_supplied_by_our_catalogue(
    app: str, domain: str
) -> None:
    english = _msgids(DJANGO / app / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po")
    norwegian = _mo_keys(DJANGO / app / "locale" / "nb" / "LC_MESSAGES" / f"{domain}.mo")
    ours = _msgids(PROJECT_NB / "LC_MESSAGES" / f"{domain}.po")
    missing = sorted(english - norwegian - ours)
    assert missing == [], (
        f"Django's nb {app} {domain} catalogue lacks these; translate them in "
        f"src/personvern/locale/nb/LC_MESSAGES/{domain}.po: {missing}"
    )


def _plural_msgids(po: Path) -> set[str]:
    """The msgids of a .po file's plural messages (``msgid_plural``)."""
    return {key for key in _msgids(po)
            if re.search(rf'^msgid "{re.escape(key)}"\nmsgid_plural', po.read_text(), re.M)}


@pytest.mark.parametrize(("app", "domain"), CATALOGUES)
def test_every_plural_admin_string_has_nb_plural_forms(app: str, domain: str) -> None:
    """A message Django counts (``ngettext``, ``blocktranslate count``) is looked up with
    its plural forms: a singular nb message of the same text is not found, and the
    English shows ("Please correct the error below." on a Norwegian change form)."""
    english = _plural_msgids(DJANGO / app / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po")
    with (DJANGO / app / "locale" / "nb" / "LC_MESSAGES" / f"{domain}.mo").open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    norwegian = {key[0] for key in catalog if isinstance(key, tuple)}
    ours = _plural_msgids(PROJECT_NB / "LC_MESSAGES" / f"{domain}.po")
    missing = sorted(english - norwegian - ours)
    assert missing == [], (
        f"Django's nb {app} {domain} catalogue lacks the plural forms of these; translate "
        f"them (msgid_plural) in src/personvern/locale/nb/LC_MESSAGES/{domain}.po: {missing}"
    )


@pytest.mark.django_db
def test_a_change_form_with_errors_says_so_in_norwegian() -> None:
    html = _client().post("/admin/customers/customer/add/", {},
                          headers={"accept-language": "nb"}).content.decode()
    assert "Rett feilene nedenfor." in html or "Rett feilen nedenfor." in html
    assert "Please correct the error" not in html


def _client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", password="a-Long-passw0rd"))
    return client


@pytest.mark.django_db
def test_the_back_office_is_named_and_labelled_in_the_visitors_language() -> None:
    client = _client()
    nb = client.get("/admin/core/membership/", headers={"accept-language": "nb"}).content.decode()
    en = client.get("/admin/core/membership/", headers={"accept-language": "en"}).content.decode()

    assert "Personvern – bakkontor" in nb and "Django" not in nb.split("<body")[1]
    assert "Skriv for å filtrere …" in nb and "Start typing to filter" not in nb
    assert "Gå til hovedinnholdet" in nb
    assert "Personvern – back office" in en and "Start typing to filter…" in en


@pytest.mark.django_db
def test_memberships_are_listed_newest_first_with_dates_in_norwegian() -> None:
    person = services.person_create(email="kari@example.no", given_name="Kari",
                                    family_name="Nordmann", actor="t")
    for year in (2019, 2024, 2021):
        services.membership_add(person=person, organisation="juristforbundet",
                                valid_from=date(year, 3, 1), actor="t")
    html = _client().get("/admin/core/membership/",
                         headers={"accept-language": "nb"}).content.decode()
    positions = [html.index(f"1. mars {year}") for year in (2024, 2021, 2019)]
    assert positions == sorted(positions)


@pytest.mark.django_db
def test_restrictions_are_listed_newest_first_under_norwegian_headings() -> None:
    person = services.person_create(email="kari@example.no", given_name="Kari",
                                    family_name="Nordmann", actor="t")
    older = services.restriction_place(person=person, ground=RestrictionGround.ACCURACY,
                                       actor="t", now=timezone.now() - timedelta(days=3))
    newer = services.restriction_place(person=person, ground=RestrictionGround.UNLAWFUL,
                                       actor="t")
    html = _client().get("/admin/core/restriction/",
                         headers={"accept-language": "nb"}).content.decode()
    assert "Startet" in html and "Started at" not in html
    assert html.index(f"/restriction/{newer.pk}/change/") < html.index(
        f"/restriction/{older.pk}/change/")


@pytest.mark.django_db
def test_library_sections_are_named_in_the_visitors_language() -> None:
    client = _client()
    nb = client.get("/admin/", headers={"accept-language": "nb"}).content.decode()
    en = client.get("/admin/", headers={"accept-language": "en"}).content.decode()
    assert "Oppgavekø" in nb and "Sperrede innlogginger" in nb
    assert "Tasks Database Backend" not in nb and "Task queue" in en


@pytest.mark.django_db
def test_staff_switch_the_back_office_to_english_and_back() -> None:
    client = _client()
    page = client.get("/admin/", headers={"accept-language": "nb"}).content.decode()
    assert 'name="language" value="en"' in page and 'value="nb"' not in page
    assert ">English</button>" in page  # the other language named in itself

    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert "Personvern – back office" in client.get(
        "/admin/", headers={"accept-language": "nb"}).content.decode()
    client.post("/i18n/setlang/", {"language": "nb", "next": "/admin/"})
    assert "Personvern – bakkontor" in client.get("/admin/").content.decode()
