"""One configuration source; production refuses to start without its secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.config import ConfigurationError, load_config


def test_production_without_secret_key_is_a_hard_error(tmp_path: Path) -> None:
    env = {"PERSONVERN_ENV": "production", "PERSONVERN_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigurationError, match="PERSONVERN_SECRET_KEY"):
        load_config(env)


def test_production_without_audit_key_is_a_hard_error(tmp_path: Path) -> None:
    env = {
        "PERSONVERN_ENV": "production",
        "PERSONVERN_DATA_DIR": str(tmp_path),
        "PERSONVERN_SECRET_KEY": "x" * 50,
    }
    with pytest.raises(ConfigurationError, match="PERSONVERN_AUDIT_KEY"):
        load_config(env)


def test_development_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    env = {"PERSONVERN_DATA_DIR": str(tmp_path)}
    first = load_config(env)["SECRET_KEY"]
    assert len(first) >= 50
    assert load_config(env)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides_config_file_which_overrides_defaults(tmp_path: Path) -> None:
    file = tmp_path / "personvern.toml"
    file.write_text('batch_size = 100\ntime_zone = "UTC"\n', encoding="utf-8")
    env = {
        "PERSONVERN_CONFIG": str(file),
        "PERSONVERN_DATA_DIR": str(tmp_path),
        "PERSONVERN_BATCH_SIZE": "7",
    }
    config = load_config(env)
    assert config.integer("BATCH_SIZE") == 7
    assert config["TIME_ZONE"] == "UTC"
    assert config["DEFAULT_FROM_EMAIL"] == "juspost@jus.no"


def test_unknown_key_in_config_file_names_file_and_key(tmp_path: Path) -> None:
    file = tmp_path / "personvern.toml"
    file.write_text("secret_kee = 'oops'\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"personvern\.toml.*secret_kee"):
        load_config({"PERSONVERN_CONFIG": str(file), "PERSONVERN_DATA_DIR": str(tmp_path)})


def test_bad_integer_names_the_variable(tmp_path: Path) -> None:
    config = load_config({"PERSONVERN_DATA_DIR": str(tmp_path), "PERSONVERN_BATCH_SIZE": "many"})
    with pytest.raises(ConfigurationError, match="PERSONVERN_BATCH_SIZE"):
        config.integer("BATCH_SIZE")


def test_production_needs_the_sites_https_address(tmp_path: Path) -> None:
    env = {
        "PERSONVERN_ENV": "production",
        "PERSONVERN_DATA_DIR": str(tmp_path),
        "PERSONVERN_SECRET_KEY": "x" * 50,
        "PERSONVERN_AUDIT_KEY": "y" * 50,
        "PERSONVERN_CLAMD_URL": "unix:///run/clamav/clamd.ctl",
    }
    with pytest.raises(ConfigurationError, match="PERSONVERN_BASE_URL"):
        load_config(env)
    with pytest.raises(ConfigurationError, match="https://"):
        load_config(env | {"PERSONVERN_BASE_URL": "http://www.jus.no"})
    config = load_config(env | {"PERSONVERN_BASE_URL": "https://www.jus.no/"})
    assert config["BASE_URL"] == "https://www.jus.no"
    assert load_config({"PERSONVERN_DATA_DIR": str(tmp_path)})["BASE_URL"] == (
        "http://127.0.0.1:8000"
    )


def test_mail_goes_to_files_in_development_and_to_smtp_elsewhere(tmp_path: Path) -> None:
    development = load_config({"PERSONVERN_DATA_DIR": str(tmp_path)})
    assert development["EMAIL_URL"] == (tmp_path / "outbox").as_uri()
    test = load_config({"PERSONVERN_DATA_DIR": str(tmp_path), "PERSONVERN_ENV": "test"})
    assert test["EMAIL_URL"] == "smtp://localhost:25"
    with pytest.raises(ConfigurationError, match="PERSONVERN_EMAIL_URL"):
        load_config({"PERSONVERN_DATA_DIR": str(tmp_path), "PERSONVERN_EMAIL_URL": "mail.jus.no"})
