"""`personvern audit verify`."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser("audit", help="the audit log")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    sub.required = True
    verify = sub.add_parser("verify", help="check the hash chain; exit 1 at the first bad entry")
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    from personvern.core.audit import verify_chain

    checked, problem = verify_chain()
    if problem is None:
        Console().print(f"Audit log intact: {checked} entries verified.")
        return 0
    print(f"Audit log broken at entry {problem.seq}: {problem.reason}", file=sys.stderr)
    return 1
