
import os as _os

import pytest as _pytest

#: The pages are the same whatever the database: page walks and checks run once, in
#: the SQLite run, to keep both runs of the suite together near ten minutes.
PAGES_CHECKED_ONCE = _pytest.mark.skipif(
    _os.environ.get("PERSONVERN_DATABASE_URL", "").startswith("postgres"),
    reason="page checks run once, in the SQLite run",
)
