"""`personvern courses list | participants | hotel-list | cle-report | refresh-relationships`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from personvern.cli import counting_progress


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    courses = subparsers.add_parser("courses", help="courses, participant lists, hotel lists")
    sub = courses.add_subparsers(dest="courses_command", metavar="ACTION")
    sub.required = True

    listing = sub.add_parser("list", help="list courses with their seats taken")
    listing.set_defaults(func=_list)

    participants = sub.add_parser(
        "participants", help="write the participant list (for the participants) of a course"
    )
    participants.add_argument("slug", help="the course code")
    participants.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    participants.add_argument("--out", type=Path, required=True, help="file to write")
    participants.set_defaults(func=_participants)

    hotel = sub.add_parser(
        "hotel-list",
        help="write the hotel list of a course and record the hand-over to its hotel",
    )
    hotel.add_argument("slug", help="the course code")
    hotel.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    hotel.add_argument("--out", type=Path, required=True, help="file to write")
    hotel.set_defaults(func=_hotel_list)

    cle = sub.add_parser(
        "cle-report",
        help="write the report of a course's attended hours for Advokatforeningen (CSV) and "
        "record it as a disclosure per member",
    )
    cle.add_argument("slug", help="the course code")
    cle.add_argument("--out", type=Path, required=True, help="file to write")
    cle.add_argument(
        "--as-of", type=_moment, default=None,
        help="the moment the report is made (YYYY-MM-DD or an ISO date and time; "
        "default now): the course must have ended by then",
    )
    cle.add_argument(
        "--again", action="store_true",
        help="report a course that was already reported (a corrected report; recorded again)",
    )
    cle.set_defaults(func=_cle_report)

    refresh = sub.add_parser(
        "refresh-relationships",
        help="recompute when each participant's customer relationship ends (after a bulk "
        "import or a restore; the services keep it current otherwise)",
    )
    refresh.add_argument("--batch-size", type=int, default=5000, help="persons per transaction")
    refresh.set_defaults(func=_refresh_relationships)


def _moment(text: str) -> object:
    """``--as-of``: a date (its end, in Norway) or an ISO date and time."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or an ISO date and time"
        ) from None
    oslo = ZoneInfo("Europe/Oslo")
    if len(text) == 10:
        value = datetime.combine(value.date() + timedelta(days=1), time(), oslo) - timedelta(
            microseconds=1
        )
    elif value.tzinfo is None:
        value = value.replace(tzinfo=oslo)
    return value


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _course(slug: str) -> object | None:
    from personvern.courses.models import Course
    from personvern.courses.selectors import course_by_slug

    try:
        return course_by_slug(slug)
    except Course.DoesNotExist:
        print(f"No course has the code {slug!r}.", file=sys.stderr)
        return None


def _list(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from personvern.courses.selectors import course_overview

    table = Table("code", "title", "kind", "starts", "seats", "waiting list", "open")
    for course in course_overview():
        table.add_row(
            course.slug,
            course.title,
            course.kind,
            f"{timezone.localtime(course.starts_at):%Y-%m-%d %H:%M}",
            f"{course.confirmed_count}/{course.capacity}",  # type: ignore[attr-defined]
            str(course.waitlisted_count),  # type: ignore[attr-defined]
            "yes" if course.registration_open else "no",
        )
    Console().print(table)
    return 0


def _write(out: Path, content: bytes) -> int:
    try:
        out.write_bytes(content)
    except OSError as exc:
        print(f"Cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


def _participants(args: argparse.Namespace) -> int:
    from personvern.courses.models import Course
    from personvern.courses.services import participant_list_export

    course = _course(args.slug)
    if not isinstance(course, Course):
        return 2
    content = participant_list_export(course=course, fmt=args.format, actor=_actor())
    code = _write(args.out, content)
    if code == 0:
        Console().print(f"Participant list of {course.slug} written to {args.out}.")
    return code


def _hotel_list(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError

    from personvern.courses.models import Course
    from personvern.courses.services import hotel_list_export

    course = _course(args.slug)
    if not isinstance(course, Course):
        return 2
    # Check the file can be written before recording a hand-over that would not happen.
    try:
        args.out.touch()
    except OSError as exc:
        print(f"Cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        content, transfer = hotel_list_export(course=course, fmt=args.format, actor=_actor())
    except ValidationError as exc:
        print("; ".join(exc.messages), file=sys.stderr)
        return 1
    code = _write(args.out, content)
    if code == 0:
        Console().print(
            f"Hotel list of {course.slug} ({transfer.row_count} guests) written to {args.out}; "
            f"hand-over to {transfer.hotel_name} recorded."
        )
    return code


def _cle_report(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError

    from personvern.courses.models import Course
    from personvern.courses.services import cle_report_export

    course = _course(args.slug)
    if not isinstance(course, Course):
        return 2
    # Check the file can be written before recording a report that would not be made.
    try:
        args.out.touch()
    except OSError as exc:
        print(f"Cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        content, report = cle_report_export(
            course=course, actor=_actor(), again=args.again, now=args.as_of
        )
    except ValidationError as exc:
        hint = " Use --again to report it once more." if "again" in getattr(
            exc, "error_dict", {}) else ""
        print("; ".join(exc.messages) + hint, file=sys.stderr)
        return 1
    code = _write(args.out, content)
    if code == 0:
        Console().print(
            f"CLE report of {course.slug} ({report.row_count} members of Advokatforeningen) "
            f"written to {args.out}; recorded as a disclosure to {report.recipient}."
        )
    return code


def _refresh_relationships(args: argparse.Namespace) -> int:
    from personvern.courses.services import customer_relationships_refresh

    if args.batch_size < 1:
        print("personvern courses refresh-relationships: --batch-size must be at least 1",
              file=sys.stderr)
        return 2
    console = Console(width=None if sys.stdout.isatty() else 200)
    with counting_progress("persons", console) as progress:
        updated = customer_relationships_refresh(
            actor=_actor(), batch_size=args.batch_size, progress=progress
        )
    console.print(f"Registrations updated: {updated}.")
    return 0
