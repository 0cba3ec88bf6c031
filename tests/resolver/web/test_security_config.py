"""LIENHOP_BASE_URL and LIENHOP_TRUSTED_HOSTS are checked when the app starts; production
without either says so in the log; the body limits come from the settings."""

from __future__ import annotations

import logging

import pytest

from resolver import create_app
from resolver.settings import ConfigError, load_settings
from resolver.web.security import (
    PublicURL,
    content_security_policy,
    external_url,
    parse_base_url,
    security_headers,
    wants_json,
)


@pytest.mark.parametrize("bad", [
    "lienhop.vn", "ftp://lienhop.vn", "https://", "https://lienhop.vn/?x=1", "https://lienhop.vn#top",
    "https://user:pw@lienhop.vn", "https://lienhop.vn:99999", "https://lien hop.vn",
    "javascript:alert(1)", "https://lienhop.vn/a\\b", "//lienhop.vn",
])
def test_a_bad_base_url_stops_the_start_with_a_clear_message(lienhop_env, monkeypatch, bad):
    monkeypatch.setenv("LIENHOP_BASE_URL", bad)
    with pytest.raises(ConfigError, match="LIENHOP_BASE_URL must be the site's public address"):
        create_app(load_settings())


@pytest.mark.parametrize("value, root", [
    ("https://lienhop.vn", "https://lienhop.vn"),
    ("https://LIENHOP.vn/", "https://lienhop.vn"),
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("https://thuvien.example.edu.vn/lienhop/", "https://thuvien.example.edu.vn/lienhop"),
    ("https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"),
])
def test_good_base_urls(value, root):
    public = parse_base_url(value)
    assert public is not None and public.root == root
    assert parse_base_url("") is None


@pytest.mark.parametrize("bad", ["https://lienhop.vn", "lienhop.vn:443", "lienhop.vn/x", "a b;c"])
def test_a_bad_trusted_host_stops_the_start(lienhop_env, monkeypatch, bad):
    monkeypatch.setenv("LIENHOP_TRUSTED_HOSTS", bad)
    with pytest.raises(ConfigError, match="LIENHOP_TRUSTED_HOSTS"):
        create_app(load_settings())


def test_the_check_comes_before_the_database(lienhop_env, monkeypatch, tmp_path):
    home = tmp_path / "fresh-home"
    monkeypatch.setenv("LIENHOP_HOME", str(home))
    monkeypatch.setenv("LIENHOP_BASE_URL", "lienhop.vn")
    with pytest.raises(ConfigError):
        create_app(load_settings())
    assert not (home / "lienhop.sqlite3").exists()


@pytest.fixture
def security_log(caplog):  # type: ignore[no-untyped-def]
    # the lienhop loggers do not propagate to the root logger (resolver.logs)
    logger = logging.getLogger("lienhop.security")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def production(monkeypatch, **env: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_ENV", "production")
    for key, value in env.items():
        monkeypatch.setenv(f"LIENHOP_{key}", value)
    return create_app(load_settings())


def test_production_without_base_url_or_trusted_hosts_warns(lienhop_env, monkeypatch,
                                                           security_log):
    production(monkeypatch)
    assert any(r.levelno == logging.WARNING and "LIENHOP_BASE_URL" in r.getMessage()
               for r in security_log.records)


@pytest.mark.parametrize("env", [{"BASE_URL": "https://lienhop.vn"},
                                 {"TRUSTED_HOSTS": "lienhop.vn"}])
def test_production_with_either_is_quiet(lienhop_env, monkeypatch, security_log, env):
    production(monkeypatch, **env)
    assert not any("LIENHOP_BASE_URL" in r.getMessage() for r in security_log.records)


def test_limits_come_from_the_settings(lienhop_env, monkeypatch):
    monkeypatch.setenv("LIENHOP_MAX_REQUEST_MB", "2")
    app = create_app(load_settings())
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    assert app.config["MAX_FORM_MEMORY_SIZE"] <= 500_000
    assert app.config["MAX_FORM_PARTS"] <= 1000


def test_external_url_drops_a_mount_prefix_the_base_url_already_has():
    public = PublicURL("https", "lienhop.vn", "/x")
    assert external_url(public, "", "/search?q=a") == "https://lienhop.vn/x/search?q=a"
    assert external_url(public, "/x", "/x/search") == "https://lienhop.vn/x/search"
    assert external_url(public, "/x", "/x/") == "https://lienhop.vn/x/"
    assert external_url(public, "/x", "/xy") == "https://lienhop.vn/x/xy"


def test_header_helpers():
    csp = content_security_policy(["'sha256-abc='"])
    assert "style-src 'self' 'sha256-abc='" in csp and "frame-ancestors 'none'" in csp
    assert "Strict-Transport-Security" in security_headers(csp, https=True)
    assert "Strict-Transport-Security" not in security_headers(csp, https=False)
    assert wants_json("/api/search") and wants_json("/resolve/api")
    assert not wants_json("/resolve") and not wants_json("/apis")
