"""A job for the worker tests' subprocesses: it logs each start and end to a file.

``PROBE_LOG`` names the file; ``PROBE_SLEEP`` seconds are slept on the first
attempt only (a later attempt, after a takeover, finishes at once).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from personvern.worker.registry import Counts, Job, JobContext, every, register


def _probe(ctx: JobContext) -> Counts:
    log = Path(os.environ["PROBE_LOG"])
    first = not log.exists() or "start" not in log.read_text()
    with log.open("a") as out:
        out.write(f"start {os.getpid()} {ctx.now.isoformat()}\n")
    if first:
        time.sleep(float(os.environ.get("PROBE_SLEEP", "0")))
    with log.open("a") as out:
        out.write(f"end {os.getpid()}\n")
    return {"probed": 1}


register(Job(name="test-probe", schedule=every(minutes=60), run=_probe, description="probe"))
