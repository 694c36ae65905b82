"""``personvern policy check|render|ropa``: validate, publish and record the policy."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from .loader import PolicyError, configured_policy_path, load_policy
from .models import Policy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``policy`` and its actions to the ``personvern`` command."""
    parser = subparsers.add_parser(
        "policy", help="check, render and record the privacy policy file"
    )
    actions = parser.add_subparsers(dest="policy_action", metavar="ACTION")
    actions.required = True

    check = actions.add_parser(
        "check", help="validate a policy file (exit 1 and list every error on stderr)"
    )
    check.add_argument(
        "file", nargs="?", type=Path, help="policy file (default: the policy in force)"
    )
    check.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        help="judge processor audits as of this date (YYYY-MM-DD; default today)",
    )
    check.set_defaults(func=handle_check)

    render = actions.add_parser("render", help="render the privacy notice or the cookie policy")
    render.add_argument("--lang", choices=["nb", "en"], default="nb")
    render.add_argument("--format", dest="fmt", choices=["html", "md"], default="html")
    render.add_argument("--page", choices=["notice", "cookies"], default="notice")
    render.add_argument("--policy", type=Path, default=None, help="policy file to render")
    render.add_argument("--out", type=Path, default=None, help="write here instead of stdout")
    render.set_defaults(func=handle_render)

    ropa = actions.add_parser(
        "ropa", help="the record of processing activities (Art. 30(1) and 30(2))"
    )
    ropa.add_argument("--format", dest="fmt", choices=["csv", "xlsx", "json-ld"], required=True)
    ropa.add_argument("--lang", choices=["nb", "en"], default="en")
    ropa.add_argument("--policy", type=Path, default=None, help="policy file to record")
    ropa.add_argument("--out", type=Path, default=None, help="write here instead of stdout")
    ropa.set_defaults(func=handle_ropa)


def _load(path: Path | None) -> Policy | None:
    """Load the policy, printing its errors to stderr (None when invalid)."""
    try:
        return load_policy(path or configured_policy_path())
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def handle_check(args: argparse.Namespace) -> int:
    """Validate the policy: 0 when valid (warnings are printed), 1 with the errors."""
    path = args.file or configured_policy_path()
    try:
        policy = load_policy(path, as_of=args.as_of)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.errors)
        print(
            f"{path}: {count} error{'s' if count != 1 else ''}; the policy is not valid",
            file=sys.stderr,
        )
        return 1
    for warning in policy.warnings:
        print(warning, file=sys.stderr)
    print(
        f"{path}: valid (version {policy.version} of {policy.last_updated.isoformat()}; "
        f"{len(policy.activities)} activities, {len(policy.processors)} processors, "
        f"{len(policy.cookies)} cookies; {len(policy.warnings)} warnings)"
    )
    return 0


def _write(out: Path | None, data: str | bytes) -> None:
    if out is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(data)
        return
    # Write next to the target, then rename, so a failure leaves no half-written file.
    tmp = out.with_name(f".{out.name}.tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data, encoding="utf-8")
    tmp.replace(out)


def handle_render(args: argparse.Namespace) -> int:
    """Render the notice or the cookie policy in nb or en, as HTML or Markdown."""
    from .render import render_cookie_policy, render_notice

    policy = _load(args.policy)
    if policy is None:
        return 1
    render = render_notice if args.page == "notice" else render_cookie_policy
    _write(args.out, render(policy, args.lang, args.fmt))
    return 0


def handle_ropa(args: argparse.Namespace) -> int:
    """Write the record of processing activities as CSV, XLSX or DPV JSON-LD."""
    from .ropa import ropa_csv, ropa_jsonld, ropa_xlsx

    policy = _load(args.policy)
    if policy is None:
        return 1
    data: str | bytes
    if args.fmt == "csv":
        data = ropa_csv(policy, args.lang)
    elif args.fmt == "xlsx":
        data = ropa_xlsx(policy, args.lang)
    else:
        data = json.dumps(ropa_jsonld(policy), ensure_ascii=False, indent=2) + "\n"
    _write(args.out, data)
    return 0
