import pytest

from config import ConfigurationError, ProductionConfig, config_for_environment


@pytest.mark.parametrize("secret", [None, "", "change-me", "short"])
def test_production_refuses_missing_or_weak_secret(monkeypatch, secret):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@localhost/db")
    monkeypatch.setenv("RECORDS_KEY", "r" * 40)
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        ProductionConfig()


def test_production_needs_its_own_records_key(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@localhost/db")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("RECORDS_KEY", "s" * 40)
    with pytest.raises(ConfigurationError, match="RECORDS_KEY"):
        ProductionConfig()


def test_production_accepts_strong_secrets(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@localhost/db")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("RECORDS_KEY", "r" * 40)
    config = ProductionConfig()
    assert config.SESSION_COOKIE_SECURE is True


def test_development_generates_and_keeps_a_secret(monkeypatch, tmp_path):
    import config as config_module

    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("KELISIM_ENV", "development")
    first = config_for_environment().SECRET_KEY
    assert len(first) >= 32
    assert config_for_environment().SECRET_KEY == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("KELISIM_ENV", "staging")
    with pytest.raises(ConfigurationError):
        config_for_environment()
