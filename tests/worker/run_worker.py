"""``python -m tests.worker.run_worker ARGS``: personvern, with the probe job registered."""

import sys

from personvern.cli import _setup_django, main

_setup_django()
import tests.worker.probe_jobs  # noqa: E402,F401  (registers test-probe)

sys.exit(main(sys.argv[1:]))
