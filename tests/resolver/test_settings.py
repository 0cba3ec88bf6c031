"""Settings come from LIENHOP_* variables; production refuses to start without a secret."""

import ipaddress

import pytest

from resolver.settings import ConfigError, load_settings


def test_embedded_defaults_live_in_the_instance_folder(tmp_path):
    s = load_settings({"LIENHOP_HOME": str(tmp_path), "LIENHOP_SECRET_KEY": "k"})
    assert s.env == "production"
    assert s.database_url == f"sqlite:///{tmp_path / 'lienhop.sqlite3'}"
    assert s.index_dir == tmp_path / "index"
    assert s.archive_dir == tmp_path / "archive"


def test_every_setting_is_overridable(tmp_path):
    s = load_settings({
        "LIENHOP_HOME": str(tmp_path),
        "LIENHOP_SECRET_KEY": "k",
        "LIENHOP_DATABASE_URL": "postgresql://u@db/lienhop",
        "LIENHOP_INDEX_DIR": str(tmp_path / "elsewhere"),
        "LIENHOP_TRUSTED_PROXIES": "10.0.0.1, 2001:db8::/32",
        "LIENHOP_ADMIN_USER": "admin",
        "LIENHOP_ADMIN_PASSWORD": "pw",
        "LIENHOP_LOG_LEVEL": "debug",
    })
    assert s.database_url == "postgresql://u@db/lienhop"
    assert s.index_dir == tmp_path / "elsewhere"
    assert s.trusted_proxies == (ipaddress.ip_network("10.0.0.1/32"),
                                 ipaddress.ip_network("2001:db8::/32"))
    assert (s.admin_user, s.admin_password, s.log_level) == ("admin", "pw", "DEBUG")


def test_production_without_secret_key_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="LIENHOP_SECRET_KEY is not set"):
        load_settings({"LIENHOP_HOME": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_development_key_is_generated_once_and_kept(tmp_path):
    env = {"LIENHOP_HOME": str(tmp_path), "LIENHOP_ENV": "development"}
    first = load_settings(env).secret_key
    assert len(first) >= 32
    assert load_settings(env).secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("bad", ["10.0.0.300", "proxy.example"])
def test_bad_trusted_proxy_is_rejected(tmp_path, bad):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings({"LIENHOP_HOME": str(tmp_path), "LIENHOP_SECRET_KEY": "k",
                       "LIENHOP_TRUSTED_PROXIES": bad})


def test_unknown_env_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="LIENHOP_ENV"):
        load_settings({"LIENHOP_HOME": str(tmp_path), "LIENHOP_ENV": "prod"})


def test_create_app_fails_at_start_without_secret(tmp_path, monkeypatch):
    from resolver import create_app

    monkeypatch.setenv("LIENHOP_HOME", str(tmp_path))
    monkeypatch.delenv("LIENHOP_SECRET_KEY", raising=False)
    monkeypatch.delenv("LIENHOP_ENV", raising=False)
    with pytest.raises(ConfigError):
        create_app()
