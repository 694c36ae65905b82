"""Public pages of the rights app (thin: the services in verification.py do the work)."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from personvern.core.ratelimits import configured_rate
from personvern.rights.forms import VerifyCodeForm
from personvern.rights.models import Request
from personvern.rights.verification import request_verify

#: Who confirms a request on the public page, in the audit log.
VERIFY_ACTOR = "public:verify-code"


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(group="verify-code", key="ip", rate=configured_rate, method="POST")
def verify(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Enter the code from the confirmation e-mail (linked from it).

    Wrong codes are counted on the request (five, then a new code is needed)
    and posts per client by the rate limit.
    """
    case = Request.objects.filter(public_id=public_id).first()
    if case is None:
        raise Http404
    if case.verified_at is not None or not case.is_open:
        return render(request, "rights/verify_done.html", {"case": case, "already": True})
    form = VerifyCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = request_verify(
                request=case, code=form.cleaned_data["code"].strip(), actor=VERIFY_ACTOR
            )
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {}
            for message in [m for errors in messages.values() for m in errors] or exc.messages:
                form.add_error("code", message)
        else:
            return render(request, "rights/verify_done.html", {"case": case, "already": False})
    return render(request, "rights/verify.html", {"form": form, "case": case})
