"""`personvern audit verify|seal` and `personvern scan pending`."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser("audit", help="the audit log")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    sub.required = True
    verify = sub.add_parser(
        "verify",
        help="check the keyed chain against its anchor; exit 1 at the first problem "
        "(an entry edited, removed or reordered, the newest entries removed)",
    )
    verify.add_argument(
        "--seal", action="store_true", help="seal entries not yet sealed first"
    )
    verify.set_defaults(func=_verify)
    seal = sub.add_parser(
        "seal", help="seal new entries into the chain now (the worker does it every minute)"
    )
    seal.set_defaults(func=_seal)

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

    if args.seal and _seal_or_say() is None:
        return 2
    report = verify_chain()
    console = Console(highlight=False)
    if report.unsealed:
        console.print(
            f"{report.unsealed} entries are not sealed yet and were not checked "
            "(the worker seals them every minute; `personvern audit seal` seals them now)."
        )
    problem = report.problem
    if problem is not None:
        where = f" at entry {problem.seq}" if problem.seq is not None else ""
        print(
            f"Audit log broken{where}: {problem.reason} "
            f"({report.checked} entries verified before it).",
            file=sys.stderr,
        )
        return 1
    if not report.checked:
        console.print("Audit log intact: no entry is sealed yet.")
        return 0
    console.print(
        f"Audit log intact: {report.checked} entries verified; "
        f"the anchor {report.anchor} vouches for entries 1 to {report.anchored}."
    )
    if report.anchored < report.checked:
        console.print(
            f"Entries {report.anchored + 1} to {report.checked} were sealed after the "
            "newest anchored head."
        )
    return 0


def _seal(args: argparse.Namespace) -> int:
    sealed = _seal_or_say()
    if sealed is None:
        return 2
    Console(highlight=False).print(f"Sealed {sealed} audit entries into the chain.")
    return 0


def _seal_or_say() -> int | None:
    """Seal pending entries; None (with the reason on stderr) when the anchor cannot be written."""
    from personvern.core.audit import anchor_path, seal_pending

    try:
        return seal_pending()
    except OSError as exc:
        print(
            f"Cannot write the audit anchor {anchor_path()}: {exc.strerror or exc} "
            "(entries sealed so far stay sealed; set PERSONVERN_AUDIT_ANCHOR to a writable file).",
            file=sys.stderr,
        )
        return None


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
