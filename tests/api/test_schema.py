"""The OpenAPI document: served, committed, and the docs page under the CSP."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client

from personvern.api import cli
from personvern.api.api import openapi_json

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
pytestmark = pytest.mark.django_db


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="personvern")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.mark.req("R32")
def test_committed_schema_is_current() -> None:
    # Regenerate with: personvern api schema --out docs/openapi.json
    assert COMMITTED.read_text(encoding="utf-8") == openapi_json()


@pytest.mark.req("R32")
def test_served_schema_is_openapi_3_with_the_request_endpoints(client: Client) -> None:
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/requests",
        "/api/requests/{request_id}",
        "/api/requests/{request_id}/cancel",
        "/api/requests/{request_id}/bundle",
        "/api/members/{organisation}/feed",
        "/api/members/{organisation}/opt-outs",
    }
    assert schema == json.loads(openapi_json())
    create = schema["components"]["schemas"]["RequestCreateIn"]
    types = create["properties"]["subject_request_type"]["enum"]
    assert set(types) == {
        "access", "portability", "erasure", "rectification", "restriction", "objection",
        "unclassified",
    }
    statuses = schema["components"]["schemas"]["RequestOut"]["properties"]["request_status"]
    assert set(statuses["enum"]) == {"pending", "in_progress", "completed", "cancelled"}
    assert schema["components"]["securitySchemes"]["StaffToken"]["scheme"] == "bearer"
    # Every $ref resolves.
    for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', response.content.decode()):
        assert ref in schema["components"]["schemas"]


@pytest.mark.req("R32")
def test_docs_page_works_under_the_content_security_policy(client: Client) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    html = response.content.decode()
    # No inline script may run under script-src 'self': every executable script
    # is a file of our own origin, and the settings block is inert JSON.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        if "src=" in attributes:
            assert body.strip() == ""
            src = re.search(r'src="([^"]+)"', attributes)
            assert src and src.group(1).startswith("/static/"), attributes
            assert finders.find(src.group(1).removeprefix("/static/")), src.group(1)
        else:
            assert 'type="application/json"' in attributes
            assert json.loads(body)["url"] == "/api/openapi.json"
    assert "cdn" not in html.lower()


@pytest.mark.req("R32")
def test_schema_command_writes_and_checks_the_file(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"

    assert run_cli("api", "schema", "--out", str(out)) == 0
    assert out.read_text(encoding="utf-8") == openapi_json()
    assert run_cli("api", "schema", "--out", str(out), "--check") == 0
    out.write_text("{}", encoding="utf-8")
    assert run_cli("api", "schema", "--out", str(out), "--check") == 1


@pytest.mark.req("R40")
def test_token_command_prints_a_working_token(capsys: pytest.CaptureFixture[str]) -> None:
    User.objects.create_user(username="kontor", is_staff=True)

    assert run_cli("api", "token", "create", "--user", "kontor", "--name", "crm") == 0
    plain = capsys.readouterr().out.strip()
    assert run_cli("api", "token", "create", "--user", "nobody", "--name", "crm") == 2

    response = Client(headers={"Authorization": f"Bearer {plain}"}).get("/api/requests")
    assert response.status_code == 403  # authenticated; lacks the rights permission
    assert run_cli("api", "token", "revoke", "--user", "kontor", "--name", "crm") == 0
    response = Client(headers={"Authorization": f"Bearer {plain}"}).get("/api/requests")
    assert response.status_code == 401
    assert run_cli("api", "token", "list") == 0
