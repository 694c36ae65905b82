"""The REST API (django-ninja): data-subject requests for integrators.

Thin: each endpoint checks the caller's permission, validates its typed input
(the schema layer) and calls one service or selector of ``personvern.rights``.

Security model:
- Callers authenticate with a staff API token (``Authorization: Bearer …``);
  the session cookie is *not* an API credential, so a browser that is logged
  in to the back office cannot be made to call the API by another site, and
  the API needs no CSRF token.
- A token only works while its user is active staff; each endpoint also
  requires the user's rights permission (``rights.view_request`` to read,
  ``rights.add_request`` to create, ``rights.change_request`` to cancel and to
  download an access bundle).
- Wrong tokens are counted per client address in the shared cache; past
  ``PERSONVERN_RATE_LIMIT_API_AUTH_FAILURES`` (default 20 in 10 minutes) every
  call from that address gets 429 with ``Retry-After`` until the window ends.
- Invalid input is answered with 422 and the field's location (text with a
  NUL character or longer than its column, numbers out of range included); a
  body that is not JSON with 400; a state that forbids the action with 409; an
  unknown id with 404. Never a 500 for input.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import Field

from personvern.api.models import ApiToken
from personvern.api.schemas import (
    ErrorOut,
    Language,
    RequestCancelIn,
    RequestCreateIn,
    RequestOut,
    RequestPage,
    RequestStatusName,
    SubjectRequestType,
    ValidationErrorOut,
)
from personvern.api.services import (
    BundleUnavailable,
    api_token_authenticate,
    request_bundle_download,
)
from personvern.core.ratelimits import usage as ratelimit_usage
from personvern.rights import selectors, services
from personvern.rights.deadlines import received_date
from personvern.rights.models import Request, RequestType

API_VERSION = "1.0.0"

DESCRIPTION = """\
Data-subject requests (GDPR Art. 12 and 15–21) for integrators.

Field names, request types and statuses follow the OpenGDPR 1.0 specification
where it has them and extend it for rectification, restriction and objection.
Authenticate with a staff API token: `Authorization: Bearer <token>`
(create one with `personvern api token create --user USERNAME --name NAME`).
Too many calls with a wrong token from one address are answered with 429
and `Retry-After` until the limit's window ends.
Responses carry no personal data except the access bundle, whose download is
audited.

The member organisations push their member lists and the newsletter opt-outs
made on their member pages to `/members/{organisation}/…`, with a token whose
user holds that organisation's feed permission (`core.feed_<organisation>`).
"""

ERROR_FORBIDDEN = _("Your user lacks the permission for this (%(permissions)s).")
ERROR_NOT_FOUND = _("No request has the id %(id)s.")

# Service error fields, as the API's callers know them.
API_FIELD_NAMES = {
    "type": "subject_request_type",
    "email": "subject_identities",
    "received_at": "submitted_time",
}
#: The largest ``offset`` of the request list.
MAX_OFFSET = 1_000_000_000
# Service errors on these fields mean "not in this state", not "bad input".
CONFLICT_FIELDS = {"status", "verified_at", "person", "source_message_id"}


ERROR_AUTH_THROTTLED = _(
    "Too many requests with a wrong token came from your address. "
    "Try again in %(seconds)s seconds."
)
#: django-ratelimit's group of failed authentications (``RATELIMIT_RATES``).
AUTH_FAILURES = "api-auth-failures"


class AuthenticationThrottled(Exception):
    """The client sent too many wrong tokens in the current window (answered with 429)."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = max(1, seconds)


class StaffToken(HttpBearer):
    """A staff API token, sent as a bearer token.

    Wrong tokens are counted per client address (``PERSONVERN_RATE_LIMIT_API_AUTH_FAILURES``,
    in the shared cache); once over the limit no token is even checked until the
    window ends, so guessing gets a 429, not an answer.
    """

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        failures = ratelimit_usage(request, AUTH_FAILURES, increment=False)
        if failures is not None and failures["count"] >= failures["limit"]:
            raise AuthenticationThrottled(failures["time_left"])
        api_token = api_token_authenticate(token)
        if api_token is None:
            ratelimit_usage(request, AUTH_FAILURES, increment=True)
            return None
        # The token's user acts, whatever session the client may also carry.
        request.user = api_token.user
        return api_token


api = NinjaAPI(
    title="Personvern API",
    version=API_VERSION,
    description=DESCRIPTION,
    auth=StaffToken(),
    urls_namespace="api",
)


def _require(request: HttpRequest, *perms: str) -> str:
    """Refuse with 403 unless the token's user has every permission; returns the actor."""
    user = request.user
    if not all(user.has_perm(perm) for perm in perms):
        raise HttpError(403, str(ERROR_FORBIDDEN % {"permissions": ", ".join(perms)}))
    return f"api:{user.get_username()}"


def _today() -> date:
    return received_date(timezone.now())


def _out(request: HttpRequest, row: Request, today: date) -> RequestOut:
    bundle_url = None
    if row.type == RequestType.ACCESS and row.verified_at is not None and row.person_id:
        bundle_url = request.build_absolute_uri(
            reverse("api:request_bundle", kwargs={"request_id": row.public_id})
        )
    return RequestOut.from_request(row, today=today, bundle_url=bundle_url)


def _get(request_id: UUID) -> Request:
    try:
        return selectors.request_get(request_id)
    except Request.DoesNotExist as exc:
        raise HttpError(404, str(ERROR_NOT_FOUND % {"id": request_id})) from exc


@api.exception_handler(AuthenticationThrottled)
def _auth_throttled(request: HttpRequest, exc: AuthenticationThrottled) -> HttpResponse:
    """Too many wrong tokens from this client: 429 with Retry-After."""
    response = api.create_response(
        request, {"detail": str(ERROR_AUTH_THROTTLED % {"seconds": exc.seconds})}, status=429
    )
    response["Retry-After"] = str(exc.seconds)
    return response


@api.exception_handler(ValidationError)
def _service_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A service refused the input: 422 naming the field, or 409 for a state conflict."""
    errors: list[dict[str, Any]] = []
    status = 422
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            if name in CONFLICT_FIELDS:
                status = 409
            loc = ["body", API_FIELD_NAMES.get(name, name)]
            errors.extend({"loc": loc, "msg": m, "type": "value_error"} for m in messages)
    else:
        errors = [{"loc": ["body"], "msg": m, "type": "value_error"} for m in exc.messages]
    if status == 409:
        return api.create_response(
            request, {"detail": " ".join(e["msg"] for e in errors)}, status=409
        )
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(NinjaValidationError)
def _input_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    """Invalid input: 422 with each field's location and message (JSON-safe)."""
    errors = [
        {
            "loc": [str(part) if not isinstance(part, int) else part for part in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": errors}, status=422)


class RequestFilters(Schema):
    status: RequestStatusName | None = Field(None, description="Only requests in this status.")
    subject_request_type: SubjectRequestType | None = Field(
        None, description="Only requests of this type (`unclassified`: not yet classified)."
    )
    overdue: bool | None = Field(
        None, description="true: open requests past due_legal; false: all others."
    )
    due_within_days: int | None = Field(
        None, ge=0, le=366, description="Open requests due within this many days."
    )
    limit: int = Field(100, ge=1, le=500)
    # Bounded so that offset + limit fits a 64-bit integer (a larger one was a
    # 500 from the database); no real listing comes near it.
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


#: 429: too many wrong tokens from the client's address (StaffToken).
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut}
#: Endpoints with a JSON body also answer 400 when the body is not JSON.
BODY_ERRORS: dict[int, Any] = {400: ErrorOut, **ERRORS}


@api.post(
    "/requests",
    response={201: RequestOut, 409: ErrorOut, **BODY_ERRORS},
    url_name="request_create",
    operation_id="request_create",
    tags=["requests"],
    summary="Register a data-subject request",
)
def request_create(request: HttpRequest, payload: RequestCreateIn) -> Status[RequestOut]:
    """Register a request on a person's behalf; the deadline runs from ``submitted_time``."""
    actor = _require(request, "rights.add_request")
    row = services.request_create(
        type=payload.subject_request_type,
        email=payload.subject_identities[0].identity_value,
        channel=payload.channel,
        received_at=payload.submitted_time or timezone.now(),
        notes=payload.notes,
        actor=actor,
    )
    return Status(201, _out(request, row, _today()))


@api.get(
    "/requests",
    response={200: RequestPage, **ERRORS},
    url_name="request_list",
    operation_id="request_list",
    tags=["requests"],
    summary="List data-subject requests",
)
def request_list(request: HttpRequest, filters: Query[RequestFilters]) -> RequestPage:
    """Requests ordered by legal deadline, optionally only overdue or due soon."""
    _require(request, "rights.view_request")
    today = _today()
    rows = selectors.request_list(
        status=filters.status,
        type=filters.subject_request_type,
        overdue=filters.overdue,
        due_within_days=filters.due_within_days,
        today=today,
    )
    page = list(rows[filters.offset : filters.offset + filters.limit])
    return RequestPage(items=[_out(request, r, today) for r in page], count=rows.count())


@api.get(
    "/requests/{request_id}",
    response={200: RequestOut, 404: ErrorOut, **ERRORS},
    url_name="request_detail",
    operation_id="request_detail",
    tags=["requests"],
    summary="Get one data-subject request",
)
def request_detail(request: HttpRequest, request_id: UUID) -> RequestOut:
    """The request with this ``subject_request_id``."""
    _require(request, "rights.view_request")
    return _out(request, _get(request_id), _today())


@api.post(
    "/requests/{request_id}/cancel",
    response={200: RequestOut, 404: ErrorOut, 409: ErrorOut, **BODY_ERRORS},
    url_name="request_cancel",
    operation_id="request_cancel",
    tags=["requests"],
    summary="Cancel a data-subject request",
)
def request_cancel(
    request: HttpRequest, request_id: UUID, payload: RequestCancelIn | None = None
) -> RequestOut:
    """Close an open request without fulfilling it (withdrawn, duplicate, no identity)."""
    actor = _require(request, "rights.change_request")
    row = services.request_cancel(
        request=_get(request_id), actor=actor, reason=payload.reason if payload else ""
    )
    return _out(request, row, _today())


@api.get(
    "/requests/{request_id}/bundle",
    response={200: None, 404: ErrorOut, 409: ErrorOut, **ERRORS},
    url_name="request_bundle",
    operation_id="request_bundle",
    tags=["requests"],
    summary="Download the access bundle (zip)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The access bundle: data.json, one CSV per holder, report.html.",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def request_bundle(request: HttpRequest, request_id: UUID, lang: Language = "nb") -> HttpResponse:
    """The person's data of a verified access request, built now; the download is audited."""
    actor = _require(request, "rights.view_request", "rights.change_request")
    row = _get(request_id)
    try:
        bundle = request_bundle_download(request=row, actor=actor, lang=lang)
    except BundleUnavailable as exc:
        raise HttpError(409, str(exc)) from exc
    response = HttpResponse(bundle, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="access-{row.public_id}.zip"'
    # Personal data: no shared or browser cache may keep a copy.
    response["Cache-Control"] = "no-store"
    return response




# The member organisations' feeds (members and opt-outs), in a module of their own.
from personvern.api.members import router as members_router  # noqa: E402

api.add_router("/members", members_router)

#: Where the project mounts the API (personvern.urls includes it at "api/").
MOUNT_PATH = "/api/"


def openapi_json() -> str:
    """The OpenAPI 3 document of the API, as committed in ``docs/openapi.json``.

    Generated in English with a fixed mount path, so the text does not depend
    on the request's language or the URL configuration of the moment.
    """
    import json

    from django.utils import translation

    with translation.override("en"):
        schema = api.get_openapi_schema(path_prefix=MOUNT_PATH)
        text = json.dumps(schema, indent=2, ensure_ascii=False, default=str)
    return text + "\n"
