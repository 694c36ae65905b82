"""Refuse a request body over the limit before anything reads it (issue 7, 3.11).

Django reads a multipart body in full (into memory, then a temporary file)
as soon as anything touches ``request.POST`` or ``request.FILES``, the CSRF
check included, and only then could a form see that a file is too large. So a
200 MB upload used to be received whole before the 10 MB limit refused it.
This middleware looks at ``Content-Length`` first and answers 413 without
reading a byte of the body. Django reads no more than ``Content-Length`` of a
body, so the declared length bounds what can be read. A body without one
(``Transfer-Encoding: chunked``) Django would silently read as empty; it is
refused with 411, so the client learns to send its length.

The reverse proxy in front should refuse such bodies even earlier (nginx
``client_max_body_size``, see docs/operations.md) with the same limit.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from personvern.site.uploads import MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES

TOO_LARGE_TITLE = _("Too much data sent")
TOO_LARGE = _(
    "What you sent is too large (%(size)s). A message with its file may be at most "
    "%(limit)s, and a file at most %(file_limit)s. Nothing was received; please go back "
    "and send a smaller file."
)
LENGTH_REQUIRED_TITLE = _("Size of the upload not given")
LENGTH_REQUIRED = _(
    "What you sent did not say how large it is, so it was not received. "
    "Please send it again from the form."
)


class RequestSizeLimitMiddleware:
    """Answer 413 to a body declared larger than :data:`MAX_REQUEST_BYTES`, unread.

    Placed before every middleware that may read the body (sessions, CSRF).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or ""
        try:
            size = int(declared) if declared else None
        except ValueError:
            size = None
        if size is not None and size > MAX_REQUEST_BYTES:
            return _refusal(request, 413, TOO_LARGE_TITLE, TOO_LARGE, size)
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if size is None and chunked:
            return _refusal(request, 411, LENGTH_REQUIRED_TITLE, LENGTH_REQUIRED, 0)
        return self.get_response(request)


def _refusal(
    request: HttpRequest, status: int, title: object, message: object, size: int
) -> HttpResponse:
    # Sessions and the language middleware have not run: the page is answered in
    # the language the browser asks for, and needs nothing from the request.
    with translation.override(translation.get_language_from_request(request)):
        text = str(message) % {
            "size": filesizeformat(size),
            "limit": filesizeformat(MAX_REQUEST_BYTES),
            "file_limit": filesizeformat(MAX_UPLOAD_BYTES),
        }
        html = render_to_string(
            "site/request_refused.html",
            {"title": str(title), "message": text, "lang": translation.get_language()},
        )
    response = HttpResponse(html, status=status)
    # The body is still on the connection: with its length given, the client can
    # read the whole answer without waiting for the server to close.
    response["Content-Length"] = str(len(response.content))
    return response
