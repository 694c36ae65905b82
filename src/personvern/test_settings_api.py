"""Temporary settings for the API helper's tests until personvern.api is wired in.

Delete once ``personvern.api`` is in INSTALLED_APPS and its urls are included at
``api/`` in :mod:`personvern.urls`.
"""

from personvern.settings import *  # noqa: F403
from personvern.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "personvern.api"]
ROOT_URLCONF = "tests.api.urls"
