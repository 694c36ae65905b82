"""Typed request and response bodies of the REST API.

Field names follow the OpenGDPR 1.0 specification where it has them
(``subject_request_id``, ``subject_request_type``, ``subject_identities`` with
``identity_type``/``identity_value``/``identity_format``, ``submitted_time``,
``received_time``, ``expected_completion_time``, ``request_status``) and extend
it for what OpenGDPR lacks: the types rectification, restriction and objection,
the type ``unclassified`` (a request whose right staff must still name), the
two deadline dates of Reg. 1182/71, the channel and the staff notes.

Responses carry no personal data: a request is identified by its
``subject_request_id``, never by the person's address or name. The only
personal data the API hands out is the access bundle, and that download is
audited.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import AfterValidator, AwareDatetime, field_validator

from personvern.core.services import normalise_email
from personvern.rights.deadlines import LEGAL_TIME_ZONE
from personvern.rights.models import Request, RequestStatus

# Literal types put the allowed values into the OpenAPI schema as enums.
SubjectRequestType = Literal[
    "access",
    "portability",
    "erasure",
    "rectification",
    "restriction",
    "objection",
    "unclassified",
]
RequestStatusName = Literal["pending", "in_progress", "completed", "cancelled"]
ChannelName = Literal["email", "post", "web", "api", "staff", "phone"]
#: Channels a request can show: also ``portal``, made by the person on Min side (not by API).
ChannelOutName = Literal["email", "post", "web", "api", "staff", "phone", "portal"]
Language = Literal["nb", "en"]

OPEN = (RequestStatus.PENDING, RequestStatus.IN_PROGRESS)

CONTAINS_NUL = _("The text contains a NUL character, which cannot be stored.")


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text (a 500 if it got that far) and SQLite would
    # store it; refuse it here, as the field's 422, on both.
    if "\x00" in value:
        raise ValueError(str(CONTAINS_NUL))
    return value


#: Every text the API accepts: no NUL character (the schema says so with a
#: pattern). Each field adds the ``max_length`` of the column or service limit
#: it ends up in, so bad text is a 422 naming the field on SQLite and PostgreSQL
#: alike and never reaches the database.
Text = Annotated[
    str, AfterValidator(_no_nul), Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})
]


class SubjectIdentity(Schema):
    """How the data subject is identified (OpenGDPR ``subject_identities``)."""

    identity_type: Literal["email"] = Field(
        ..., description="Only e-mail identities are accepted."
    )
    identity_value: Text = Field(
        ..., min_length=1, max_length=254, examples=["kari.nordmann@example.no"]
    )
    identity_format: Literal["raw"] = Field(
        "raw", description="The value in clear; hashed identities cannot be matched."
    )

    @field_validator("identity_value")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        try:
            return normalise_email(value)
        except ValidationError as exc:
            raise ValueError("identity_value is not a valid e-mail address") from exc


class RequestCreateIn(Schema):
    """A data-subject request to register."""

    subject_request_type: SubjectRequestType = Field(
        ...,
        description=(
            "The right asked for. `unclassified` when the caller cannot tell (the message "
            "names no right or several): the request is registered and its deadline runs, "
            "and staff classify it before it is carried out."
        ),
    )
    subject_identities: list[SubjectIdentity] = Field(
        ..., min_length=1, max_length=1, description="Exactly one e-mail identity."
    )
    submitted_time: AwareDatetime | None = Field(
        None,
        description=(
            "When the data subject made the request (RFC 3339 with offset); the deadline "
            "runs from here. May lie in the past, not in the future. Default: now."
        ),
    )
    channel: ChannelName = Field("api", description="How the request reached us.")
    notes: Text = Field("", max_length=10_000, description="Staff notes (may be personal).")


class RequestCancelIn(Schema):
    """Why a request is closed without being fulfilled."""

    reason: Text = Field(
        "", max_length=2_000, description="Kept with the request's notes (may be personal)."
    )


class RequestOut(Schema):
    """A data-subject request as integrators see it (no personal data)."""

    subject_request_id: UUID
    subject_request_type: SubjectRequestType = Field(
        ..., description="`unclassified` until staff have named the right asked for."
    )
    request_status: RequestStatusName
    channel: ChannelOutName
    submitted_time: datetime = Field(..., description="When the request was received.")
    received_time: datetime = Field(..., description="When it was registered here.")
    expected_completion_time: datetime = Field(
        ..., description="End of the legal deadline (23:59:59 Europe/Oslo of due_legal)."
    )
    due_strict: date = Field(..., description="Calendar end of the period (Reg. 1182/71).")
    due_legal: date = Field(..., description="Moved past weekends and Norwegian holidays.")
    overdue: bool
    extended_by_months: int
    identity_verified_time: datetime | None
    completed_time: datetime | None
    cancelled_time: datetime | None
    results_url: str | None = Field(
        None, description="Where the access bundle can be downloaded, once verified."
    )

    @staticmethod
    def from_request(request: Request, *, today: date, bundle_url: str | None) -> RequestOut:
        """Map a request row onto the response body."""
        return RequestOut(
            subject_request_id=request.public_id,
            subject_request_type=request.type,  # type: ignore[arg-type]
            request_status=request.status,  # type: ignore[arg-type]
            channel=request.channel,  # type: ignore[arg-type]
            submitted_time=request.received_at,
            received_time=request.created_at,
            expected_completion_time=datetime.combine(
                request.due_legal, time(23, 59, 59), tzinfo=LEGAL_TIME_ZONE
            ),
            due_strict=request.due_strict,
            due_legal=request.due_legal,
            overdue=request.status in OPEN and today > request.due_legal,
            extended_by_months=request.extended_by_months,
            identity_verified_time=request.verified_at,
            completed_time=request.completed_at,
            cancelled_time=request.cancelled_at,
            results_url=bundle_url,
        )


class ErrorOut(Schema):
    """A refusal with its reason."""

    detail: str


class FieldError(Schema):
    """One invalid field: where it is and what is wrong."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    """Invalid input: one entry per field."""

    detail: list[FieldError]


class RequestPage(Schema):
    """One page of requests."""

    items: list[RequestOut]
    count: int
