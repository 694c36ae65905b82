"""Counting page views (R30) and, with consent only, analytics events (R29).

Add ``"personvern.webstats.middleware.WebStatsMiddleware"`` to ``MIDDLEWARE``
after ``LocaleMiddleware``. It never reads the client's IP address
(``REMOTE_ADDR``, ``X-Forwarded-For``): the anonymous statistics need none, so
there is nothing to anonymise and nothing to leak.

Counted: successful GET responses with an HTML body, outside the back
office, the API and static files, from browsers (crawlers and scripts,
:func:`~personvern.webstats.classify.is_bot`, are left out). Paths that carry
a secret (an unsubscribe or tracking token) are counted under their route
pattern (:func:`counted_path`). The log import follows the same rules. A
failure to count is logged and never breaks the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils import timezone

from personvern.webstats import services
from personvern.webstats.classify import (
    PATH_MAX,
    browser_family,
    clean_search_term,
    device_class,
    is_bot,
)
from personvern.webstats.consent import analytics_visitor

logger = logging.getLogger(__name__)

#: Paths that are not public pages and so not part of visit statistics.
EXCLUDED_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/i18n/")
#: URL keywords whose value is a secret or an identifier (a verification token
#: in the path): such requests are counted under their route pattern instead.
SECRET_KWARGS = ("token", "key", "uuid", "public_id")


def counted_path(path: str, match: ResolverMatch | None = None) -> str:
    """The path as the statistics keep it: a path whose URL carries a secret or an
    identifier (``SECRET_KWARGS``: an unsubscribe or tracking token) becomes its
    route pattern (``/newsletter/unsubscribe/<str:token>/``); any other path is
    kept, cut to ``PATH_MAX``. ``match`` is the request's resolver match; without
    one the path is resolved here (the log import)."""
    if match is None:
        try:
            match = resolve(path)
        except Resolver404:
            match = None
    if match and any(s in k for k in match.kwargs for s in SECRET_KWARGS):
        return ("/" + match.route)[:PATH_MAX]
    return path[:PATH_MAX]


def _counts(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        request.method == "GET"
        and response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
        and not request.path.startswith(EXCLUDED_PREFIXES)
        and not is_bot(request.headers.get("User-Agent", ""))
    )


class WebStatsMiddleware:
    """Counts each public page view into the anonymous statistics."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _counts(request, response):
            self.record(request)
        return response

    def record(self, request: HttpRequest) -> None:
        """Count the view; record an analytics event if the visitor consented."""
        now = timezone.now()
        path = counted_path(request.path, request.resolver_match)
        user_agent = request.headers.get("User-Agent", "")
        try:
            # A savepoint: a failed count must not poison a surrounding transaction.
            with transaction.atomic():
                services.pageview_count(
                    at=now,
                    path=path,
                    search_term=clean_search_term(request.GET.get("q", "")),
                    device=device_class(user_agent),
                    browser=browser_family(user_agent),
                )
                visitor = analytics_visitor(request)
                if visitor is not None:
                    services.analytics_event_record(visitor_id=visitor, path=path, now=now)
        except DatabaseError:
            logger.exception("Could not record the page view of %s", path)
