"""The member organisations' feeds over the API (R3, R14, R17, R18; ADR 0023).

A member organisation pushes its member list (``POST /members/{organisation}/feed``)
and the newsletter opt-outs its members make on its own member page
(``POST /members/{organisation}/opt-outs``). Same checks and services as the
files (:mod:`personvern.members`): the whole body is checked first, a bad item
is a 422 naming its index and field, and nothing is half-written.

Authentication is the staff API token; authorisation is the permission of that
organisation's feed (``core.feed_advokatforeningen``, ``core.feed_juristforbundet``),
which the organisation's integration user holds for its own organisation only,
so its token cannot touch another organisation's members.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from personvern.api.schemas import ErrorOut, Text, ValidationErrorOut
from personvern.members.feeds import (
    WHOLE_FEED,
    FeedRefused,
    Problem,
    check_members,
    check_optouts,
)
from personvern.members.services import member_optouts_apply, members_import

OrganisationName = Literal["advokatforeningen", "juristforbundet"]

#: The most items one call may carry (a full feed of the larger organisation fits).
MAX_ITEMS = 100_000

router = Router(tags=["members"])


class MemberIn(Schema):
    """One member as the organisation's register has them."""

    member_id: Text = Field(..., max_length=64, description="The organisation's member number.")
    email: Text = Field(..., max_length=254, examples=["kari.nordmann@example.no"])
    given_name: Text = Field("", max_length=150)
    family_name: Text = Field("", max_length=150)
    member_from: date = Field(..., description="First day of the membership.")
    member_to: date | None = Field(
        None, description="Last day of the membership; empty for a current member."
    )


class MemberFeedIn(Schema):
    """A member feed: the members, and whether it is the whole list."""

    members: list[MemberIn] = Field(..., max_length=MAX_ITEMS)
    full: bool = Field(
        False, description="The list holds every member: a current membership it does not "
        "name is ended on `as_of`."
    )
    as_of: date | None = Field(
        None, description="The feed's date (default: today in Europe/Oslo)."
    )


class MemberFeedOut(Schema):
    """What the feed changed. `nothing_changed` is true when it was already applied."""

    organisation: OrganisationName
    as_of: date
    full: bool
    rows: int
    started: int
    ended: int
    changed: int
    unchanged: int
    persons_created: int
    addresses_added: int
    subscriptions_ended: int = Field(
        ..., description="Newsletter subscriptions ended because the membership they "
        "rested on ended and no consent stands."
    )
    nothing_changed: bool


class OptOutIn(Schema):
    """One opt-out made on the organisation's member page; name the member by
    `member_id`, `email` or both."""

    member_id: Text = Field("", max_length=64)
    email: Text = Field("", max_length=254)
    opted_out_at: datetime | None = Field(
        None, description="When the member opted out (default: now); not in the future."
    )


class OptOutFeedIn(Schema):
    opt_outs: list[OptOutIn] = Field(..., max_length=MAX_ITEMS)


class OptOutFeedOut(Schema):
    """What the opt-outs did. `unknown` and `stale` list item indexes that changed
    nothing: nobody known here by that number or address, or an opt-out older than
    the member's current subscription."""

    organisation: OrganisationName
    rows: int
    unsubscribed: int
    already_unsubscribed: int
    not_subscribed: int
    unknown: list[int]
    stale: list[int]
    nothing_changed: bool


ERRORS: dict[int, Any] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut
}


def _require_feed(request: HttpRequest, organisation: str) -> str:
    """403 unless the token's user may send ``organisation``'s feed; returns the actor."""
    from personvern.api.api import ERROR_FORBIDDEN

    permission = f"core.feed_{organisation}"
    if not request.user.has_perm(permission):
        raise HttpError(403, str(ERROR_FORBIDDEN % {"permissions": permission}))
    return f"api:{request.user.get_username()}"


def _loc(problem: Problem, items: str) -> list[str | int]:
    if problem.where == WHOLE_FEED:
        return ["body", problem.field]
    if problem.field:
        return ["body", items, problem.where, problem.field]
    return ["body", items, problem.where]


def _refused(exc: FeedRefused, items: str) -> Status[dict[str, Any]]:
    return Status(422, {"detail": [
        {"loc": _loc(p, items), "msg": p.message, "type": "value_error"}
        for p in exc.problems
    ]})


@router.post(
    "/{organisation}/feed",
    response={200: MemberFeedOut, **ERRORS},
    url_name="members_feed",
    operation_id="members_feed",
    summary="Send the organisation's members",
)
def members_feed(
    request: HttpRequest, organisation: OrganisationName, payload: MemberFeedIn
) -> Status[dict[str, Any]] | dict[str, Any]:
    """Start, change and end memberships as the organisation's register has them.

    Idempotent: sending the same list again changes nothing (`nothing_changed`).
    """
    actor = _require_feed(request, organisation)
    try:
        rows = check_members(
            [(index, item.model_dump()) for index, item in enumerate(payload.members)],
            row_word="item",
        )
        summary = members_import(
            organisation=organisation, rows=rows, full=payload.full, as_of=payload.as_of,
            actor=actor, source="api",
        )
    except FeedRefused as exc:
        return _refused(exc, "members")
    return summary.as_dict()


@router.post(
    "/{organisation}/opt-outs",
    response={200: OptOutFeedOut, **ERRORS},
    url_name="members_opt_outs",
    operation_id="members_opt_outs",
    summary="Send newsletter opt-outs made on the organisation's member page",
)
def members_opt_outs(
    request: HttpRequest, organisation: OrganisationName, payload: OptOutFeedIn
) -> Status[dict[str, Any]] | dict[str, Any]:
    """End the newsletter subscription of each member named, at once (R18).

    Repeating an opt-out changes nothing (`already_unsubscribed`).
    """
    actor = _require_feed(request, organisation)
    try:
        rows = check_optouts(
            [(index, item.model_dump()) for index, item in enumerate(payload.opt_outs)]
        )
        summary = member_optouts_apply(organisation=organisation, rows=rows, actor=actor)
    except FeedRefused as exc:
        return _refused(exc, "opt_outs")
    return summary.as_dict()
