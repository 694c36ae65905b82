"""`personvern demo` reproduces its data from its seed.

The real command (``personvern.cli.main``) runs twice on the test database,
flushed in between, so this test needs a transactional database of its own
(the other demo tests share one build, ``test_demo.py``).
"""

from __future__ import annotations

import hashlib

from django.core.management import call_command

from personvern.cli import main
from personvern.core.models import ConsentEvent, EmailIdentity, Person
from personvern.core.registry import holders
from personvern.newsletter.models import Subscription
from personvern.rights.models import Request
from tests.demo.test_demo import ARGS


def _run_demo() -> None:
    assert main(ARGS) == 0


def _fingerprint() -> tuple[dict[str, int], str, str]:
    """Row counts per holder, a digest of the persons' (name, e-mail) pairs, and a
    digest of visible content of the other apps (no ids, which may differ)."""
    counts = {h.label: h.model._default_manager.count() for h in holders()}
    people = sorted(
        EmailIdentity.objects.values_list("person__given_name", "person__family_name", "address")
    )
    names = hashlib.sha256(repr(people).encode()).hexdigest()
    content = sorted(
        [
            *(repr(r) for r in Subscription.objects.values_list(
                "status", "basis", "organisation", "subscribed_at", "unsubscribed_at")),
            *(repr(r) for r in Request.objects.values_list(
                "type", "status", "channel", "received_at", "due_legal", "notes", "completed_at")),
            *(repr(r) for r in ConsentEvent.objects.values_list(
                "scope", "action", "channel", "at")),
        ]
    )
    from personvern.inquiries.models import Inquiry
    from personvern.mailbox.models import MailMessage

    content += sorted(
        repr(r) for r in Inquiry.objects.values_list("subject", "message", "last_contact_at")
    )
    content += sorted(
        repr(r) for r in MailMessage.objects.values_list("subject", "received_at", "keep_until")
    )
    return counts, names, hashlib.sha256("\n".join(content).encode()).hexdigest()




def test_demo_is_reproducible_from_its_seed(transactional_db):
    _run_demo()
    first = _fingerprint()
    assert Person.objects.count() == 200 + 1  # and the known participant, Kari Nordmann

    call_command("flush", verbosity=0, interactive=False)
    _run_demo()
    second = _fingerprint()

    assert first == second
