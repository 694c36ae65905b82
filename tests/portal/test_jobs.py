"""Min side's stored traces are cleared by the worker's jobs: used sign-in links, and the
files of fulfilled access and portability requests after their download period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from personvern.core.models import Person
from personvern.portal.models import UsedSignInLink
from personvern.rights import services as rights
from personvern.rights.engine.files import export_path
from personvern.rights.selfservice import request_make_signed_in
from personvern.worker.models import JobRunState
from personvern.worker.runner import run_now
from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db


def test_the_worker_forgets_used_sign_in_links_once_expired(
    client: Client, make_person: Callable[..., Person]
) -> None:
    sign_in(client, make_person())
    assert UsedSignInLink.objects.count() == 1
    run = run_now("portal-sign-in-links", now=timezone.now() + timedelta(hours=1))
    assert run.state == JobRunState.SUCCEEDED
    assert run.counts == {"deleted": 1}
    assert not UsedSignInLink.objects.exists()


@pytest.mark.req("R33")
def test_the_worker_deletes_a_fulfilled_requests_file_after_the_download_period(
    make_person: Callable[..., Person], settings, tmp_path
) -> None:
    settings.DATA_DIR = tmp_path
    settings.PORTAL_BUNDLE_DAYS = 7
    request = rights.request_fulfil(
        request=request_make_signed_in(person=make_person(), type="portability"), actor="t"
    )
    path = export_path(request)
    assert path is not None
    early = run_now("rights-bundles-expire", now=timezone.now() + timedelta(days=6))
    assert early.counts == {"deleted": 0} and path.exists()
    run = run_now("rights-bundles-expire", now=timezone.now() + timedelta(days=8))
    assert run.state == JobRunState.SUCCEEDED
    assert run.counts == {"deleted": 1}
    assert not path.exists()
