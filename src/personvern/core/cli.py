"""`personvern audit verify` and `personvern scan pending`."""

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

    scanning = subparsers.add_parser("scan", help="virus scanning of stored files (R21)")
    scan_sub = scanning.add_subparsers(dest="scan_command", metavar="ACTION")
    scan_sub.required = True
    pending = scan_sub.add_parser(
        "pending",
        help="scan stored files not yet scanned; clean ones become downloadable, "
        "infected ones lose their content; exit 1 if any was infected or not scanned",
    )
    pending.set_defaults(func=_scan_pending)


def _verify(args: argparse.Namespace) -> int:
    from personvern.core.audit import verify_chain

    checked, problem = verify_chain()
    if problem is None:
        Console().print(f"Audit log intact: {checked} entries verified.")
        return 0
    print(f"Audit log broken at entry {problem.seq}: {problem.reason}", file=sys.stderr)
    return 1


def _scan_pending(args: argparse.Namespace) -> int:
    import getpass

    from personvern.core.scanning import rescan_pending, scanning_enabled

    if not scanning_enabled():
        print("Virus scanning is disabled: set PERSONVERN_CLAMD_URL.", file=sys.stderr)
        return 2
    try:
        actor = f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        actor = "cli"
    report = rescan_pending(actor=actor)
    Console().print(
        f"Scanned: {report.clean} clean, {report.infected} infected (content removed), "
        f"{report.failed} could not be scanned."
    )
    return 1 if report.infected or report.failed else 0
