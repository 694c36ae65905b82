"""The rights engine: one module per right of GDPR Art. 15–21.

Generic over the holder registry (:mod:`personvern.core.registry`) and the policy
in force: nothing here lists a model or an activity by hand.

- :mod:`.access` — access (Art. 15): the report, its readable page, the bundle;
- :mod:`.portability` — portability (Art. 20);
- :mod:`.rectification` — rectification (Art. 16);
- :mod:`.restriction` — restriction (Art. 18);
- :mod:`.objection` — objection (Art. 21);
- :mod:`.erasure` — erasure (Art. 17), with its safety design;
- :mod:`.purge` — making erased bytes unreachable on disk after an erasure;
- :mod:`.rows` — reading one person's rows, one query per holder (shared);
- :mod:`.files` — the generated files about a person (shared).

The names below are the engine's public interface; import them from here.
"""

from personvern.rights.engine.access import (
    AccessReport,
    ActivityInfo,
    access_bundle,
    access_bundle_write,
    access_report,
    access_report_html,
)
from personvern.rights.engine.erasure import (
    HOLD_REASON,
    PARENT_HOLD_REASON,
    ErasureReport,
    KeptRecords,
    erase,
    holds_in_force,
)
from personvern.rights.engine.files import export_path, exports_dir
from personvern.rights.engine.objection import object_to
from personvern.rights.engine.portability import portability_export, portability_write
from personvern.rights.engine.purge import (
    PURGE_DONE,
    PURGE_PENDING,
    PURGE_SKIPPED,
    purge_freed_storage,
)
from personvern.rights.engine.rectification import rectify
from personvern.rights.engine.restriction import restrict
from personvern.rights.engine.rows import IDENTITY, HolderSection, holder_rows

__all__ = [
    "HOLD_REASON",
    "IDENTITY",
    "PARENT_HOLD_REASON",
    "PURGE_DONE",
    "PURGE_PENDING",
    "PURGE_SKIPPED",
    "AccessReport",
    "ActivityInfo",
    "ErasureReport",
    "HolderSection",
    "KeptRecords",
    "access_bundle",
    "access_bundle_write",
    "access_report",
    "access_report_html",
    "erase",
    "export_path",
    "exports_dir",
    "holder_rows",
    "holds_in_force",
    "object_to",
    "portability_export",
    "portability_write",
    "purge_freed_storage",
    "rectify",
    "restrict",
]
