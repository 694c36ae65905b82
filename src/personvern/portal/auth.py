"""Who is signed in to Min side: a person, not a staff user.

The sign-in itself (a single-use link mailed to an address the system holds)
is in :mod:`personvern.portal.signin`; this module is the contract every app's
Min side pages use: :func:`portal_person` and :func:`person_required`.

The session stores the person's ``public_id`` (never the database id) and the
time of sign-in; a session older than ``PERSONVERN_PORTAL_SESSION_MINUTES``
(default 30) since the sign-in is no longer signed in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from personvern.core.models import Person

#: A view function (a file download answers with a ``FileResponse``, not an ``HttpResponse``).
View = TypeVar("View", bound=Callable[..., HttpResponseBase])

#: The audit actor of whatever a person does themselves on Min side. Not their
#: public id: the entry names the person through ``audit_log(person=...)``, whose
#: keyed pseudonym erasure cuts off, while an actor text is never cleared.
SELF_ACTOR = "person:min-side"

SESSION_PERSON = "portal_person"
SESSION_SIGNED_IN_AT = "portal_signed_in_at"


def _max_age() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "PORTAL_SESSION_MINUTES", 30)))


def person_actor(person: Person) -> str:
    """The audit actor of something ``person`` did on Min side (pass ``person=`` too)."""
    return SELF_ACTOR


def portal_person(request: HttpRequest, *, now: datetime | None = None) -> Person | None:
    """The person signed in to Min side in this session, or ``None``."""
    public_id = request.session.get(SESSION_PERSON)
    signed_in_at = request.session.get(SESSION_SIGNED_IN_AT)
    if not public_id or not signed_in_at:
        return None
    now = now or timezone.now()
    if now - datetime.fromisoformat(signed_in_at) > _max_age():
        portal_sign_out(request)
        return None
    person = Person.objects.filter(public_id=public_id).first()
    if person is None:  # erased since signing in
        portal_sign_out(request)
    return person


def portal_sign_in(request: HttpRequest, person: Person, *, now: datetime | None = None) -> None:
    """Sign ``person`` in to this session (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_PERSON] = str(person.public_id)
    request.session[SESSION_SIGNED_IN_AT] = (now or timezone.now()).isoformat()


def portal_sign_out(request: HttpRequest) -> None:
    """End the Min side session."""
    request.session.pop(SESSION_PERSON, None)
    request.session.pop(SESSION_SIGNED_IN_AT, None)
    request.session.cycle_key()


def person_required(view: View) -> View:
    """Let the view run only for a signed-in person, given as ``request.portal_person``.

    Anyone else is sent to the sign-in page, which brings them back afterwards.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        person = portal_person(request)
        if person is None:
            target = reverse("portal:sign-in") + "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(target)
        request.portal_person = person  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return cast(View, wrapper)
