"""The back office speaks Norwegian Bokmål in nb and English in en, nothing left over.

A superuser walks, with Django's test client and demo data, the admin index and
for every model registered with the admin (read from ``admin.site._registry``
when the test runs, so admins added later are walked too) its list, its add page
and one object's change page, plus every extra view a model admin adds without a
parameter in its URL. Each page is asked for in Norwegian (``Accept-Language:
nb``); its visible text (text nodes, ``placeholder``, ``title`` and
``aria-label``; no scripts or styles) must contain none of a list of English
words and phrases that are never Norwegian; asked for in English, none of a list
of Norwegian words of the frame and our own labels (:data:`NORWEGIAN`). A page
may be excused from a word with a reason (:data:`ALLOWED`).

Set ``PERSONVERN_DUMP_BACKOFFICE_TEXT=<dir>`` to write each page's visible text
in nb and en to that directory (used to compare the two by eye).
"""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone
from rich.console import Console

from personvern.demo import cli as demo_cli

pytestmark = pytest.mark.django_db

STANDARD_VIEWS = ("_changelist", "_add", "_change", "_delete", "_history")

#: English words and phrases that must not be seen on a back-office page in nb:
#: Django's and our own labels, choice values shown as codes, English fallbacks.
#: Matched as whole words and case-sensitively; words that are Norwegian too
#: ("Type", "Status", "Person", "post", "holder", "sent", "digital") are left out.
ENGLISH = [
    # Django's admin
    "Add", "Change", "Delete", "Search", "Save", "History", "Action", "Go",
    "Show counts", "Hide counts", "Start typing", "Clear all filters", "Select all",
    "True", "False", "None", "Yes", "No", "Unknown", "Can add", "Can change",
    "Can view", "Can delete",
    # Field labels and headings
    "Public id", "Given name", "Family name", "Customer", "Company", "Winner",
    "Reviewed", "Feedback sent", "Progress", "Preview", "Application", "Competition",
    "Newsletter", "Subscription", "Inquiry", "Registration", "Participant", "Course",
    "Request", "Reason", "Subject", "Message", "Deadline", "Received", "Recorded",
    "Created", "Updated", "Scope", "Channel", "Email", "E-mail", "Note", "Purpose",
    "Recipients", "Overview", "Record of processing", "Legal basis", "Data kept until",
    "New contact person", "copies", "Interview", "Organisation", "Task name", "Run after",
    "Traceback",
    # Choice values shown as codes, and stored English texts
    "draft", "physical", "access", "erasure", "rectification", "objection",
    "portability", "restriction", "web form", "phone", "letter", "Rejected", "Hired",
    "Queued", "Failed", "Pending", "Closed", "Answered", "Withdrawn", "Cancelled",
    "Attended", "Enrolled", "Waiting", "course administrator", "account manager",
    "data protection officer", "E-mail kept", "customer", "org. no.", "third-party",
    "retention rule", "unsubscribe", "newsletter",
    # English sentences
    "the", "and", "with", "from", "until", "of", "kept", "entries",
]

#: Norwegian words that must not be seen on a back-office page in en (the demo
#: data itself is Norwegian: course titles, names, mail subjects; so only words
#: of the frame, labels and our own texts, never in a title or name).
NORWEGIAN = [
    "Legg til", "Endre", "Slett", "Søk", "Lagre", "Historikk", "Velg", "Filtrering",
    "Vis antall", "Ja", "Nei", "Ukjent", "Ingen", "Behandlingsgrunnlag", "Oppbevares",
    "E-post beholdt", "påmeldingsskjema", "trukket tilbake", "under behandling",
    "saksreferanse", "Kan legge til", "Kan se", "Personvernoversikt",
    "Behandlingsprotokoll", "Databehandler", "Frist", "Begrunnelse",
]

#: Page path (a regular expression searched in it) → {word: reason} for words a page
#: may legitimately show.
ALLOWED: dict[str, dict[str, str]] = {
    "/admin/auth/group/": dict.fromkeys(
        ("course administrator", "account manager", "data protection officer"),
        "a role's group name is its stable code (core/roles.py); the list and the forms"
        " show its label, Django's breadcrumb and title show the stored name",
    ),
    "/admin/rights/request/overview/": {
        "entries": "a retention rule's id in the policy file (competitions' 'entries')",
    },
    "/admin/rights/request/record-of-processing/": {
        "entries": "a retention rule's id in the policy file (competitions' 'entries')",
    },
    r"/admin/rights/request/\d+/change/": {
        "restriction": "a request's result is shown as the JSON the engine stored",
    },
}


class _VisibleText(HTMLParser):
    """Collects what a reader sees: text nodes and a few text-bearing attributes."""

    HIDDEN = {"script", "style", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        for name, value in attrs:
            if name in {"placeholder", "title", "aria-label", "alt"} and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and value and (
                ("type", "submit") in attrs or ("type", "button") in attrs
            ):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def _pages() -> list[str]:
    """The index, and every model admin's list, add and change page and extra views."""
    pages = [reverse("admin:index"), reverse("admin:password_change")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        pages += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"{name}_change", args=[first.pk]))
        for pattern in model_admin.get_urls():
            if (isinstance(pattern, URLPattern) and pattern.name
                    and not pattern.name.endswith(STANDARD_VIEWS)
                    and not pattern.pattern.converters):
                pages.append(reverse(f"admin:{pattern.name}"))
    return pages


def _words_in(words: list[str], text: str, path: str) -> list[str]:
    allowed = {
        word for pattern, words in ALLOWED.items() if re.search(pattern, path) for word in words
    }
    found = []
    for word in words:
        # A plain substring test first: most words are not on the page at all, and
        # the whole-word search below only confirms the few that are.
        if word in allowed or word not in text:
            continue
        # Not inside a path or code ("/newsletter/", "after-the-stay").
        if re.search(rf"(?<![\w/-]){re.escape(word)}(?![\w/-])", text):
            found.append(word)
    return found


def test_no_english_on_a_back_office_page_in_nb_and_no_norwegian_in_en() -> None:
    demo_cli.generate(persons=20, seed=7, now=timezone.now() - timedelta(minutes=1),
                      console=Console(file=io.StringIO()))
    user = User.objects.create_superuser("reader", password="a-Long-test-passw0rd")
    client = Client()
    client.force_login(user)
    dump = os.environ.get("PERSONVERN_DUMP_BACKOFFICE_TEXT")

    pages = _pages()
    problems = []
    for path in pages:
        response = client.get(path, headers={"accept-language": "nb"}, follow=True)
        if response.status_code == 403 and path.endswith("/add/"):
            continue  # an admin that lets nobody add (axes' attempts, the audit log)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        text = visible_text(response.content.decode())
        found = _words_in(ENGLISH, text, path)
        if found:
            problems.append(f"{path} in nb: {', '.join(found)}")
        english = client.get(path, headers={"accept-language": "en"}, follow=True)
        text = visible_text(english.content.decode())
        if dump:
            slug = re.sub(r"[^\w]+", "_", path).strip("_") or "index"
            for lang, page_text in (("nb", visible_text(response.content.decode())),
                                    ("en", text)):
                Path(dump, lang).mkdir(parents=True, exist_ok=True)
                Path(dump, lang, slug + ".txt").write_text(f"{path}\n{page_text}\n")
        found = _words_in(NORWEGIAN, text, path)
        if found:
            problems.append(f"{path} in en: {', '.join(found)}")

    assert len(pages) > 3 * len(admin.site._registry)  # the walk found the admins' pages
    assert problems == [], "Words of the other language on back-office pages:\n" + "\n".join(
        problems)
