"""`python -m personvern` runs the same command line as the `personvern` script."""

import sys

from personvern.cli import main

sys.exit(main())
