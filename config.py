"""Kelisim configuration, read from the environment.

`KELISIM_ENV` picks the class (development | production); tests use `TestConfig`.
Secrets: production must be given `SECRET_KEY` (and `RECORDS_KEY` for the
completion-record chain); development generates both once and keeps them in
`instance/` so restarts keep sessions and the chain verifiable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("KELISIM_INSTANCE", BASE_DIR / "instance"))

# Values that must never be used as real secrets (copied from examples or left empty).
WEAK_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "default"}


class ConfigurationError(RuntimeError):
    """Raised when the app is started with a configuration it must refuse."""


def _persistent_secret(name: str) -> str:
    """Return a random secret kept in instance/<name>, creating it once."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = "development"
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'kelisim.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    COURSES_DIR = os.environ.get("COURSES_DIR", str(BASE_DIR / "courses"))
    MEDIA_DIR = os.environ.get("MEDIA_DIR", str(INSTANCE_DIR / "media"))
    SIGNING_KEY_PATH = os.environ.get("SIGNING_KEY_PATH", str(INSTANCE_DIR / "signing_key.pem"))
    DEFAULT_LANGUAGE = os.environ.get("DEFAULT_LANGUAGE", "ru")
    LANGUAGES = ("kk", "ru", "en")
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    SMTP_URL = os.environ.get("SMTP_URL", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "kelisim@localhost")
    ISSUER_NAME = os.environ.get("ISSUER_NAME", "Kelisim")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "kelisim")
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "60"))
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024  # zip imports are checked at 50 MB; this is the hard cap
    MAX_FORM_BYTES = 1 * 1024 * 1024
    MEDIA_MAX_BYTES = 5 * 1024 * 1024
    PROGRESS_VISIT_CAP_SECONDS = 30 * 60  # an idle tab never counts more than this per visit
    SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600  # static files are fingerprinted
    # Compiled templates, shared by the workers and kept across restarts (learning/template_cache.py).
    TEMPLATE_CACHE_DIR = os.environ.get("TEMPLATE_CACHE_DIR", str(INSTANCE_DIR / "template-cache"))

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or _persistent_secret("secret_key")
        self.RECORDS_KEY = os.environ.get("RECORDS_KEY") or _persistent_secret("records_key")


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True

    def __init__(self) -> None:
        secret = os.environ.get("SECRET_KEY", "")
        if secret.strip().lower() in WEAK_SECRETS or len(secret) < 32:
            raise ConfigurationError(
                "SECRET_KEY must be set to a random value of at least 32 characters when "
                "KELISIM_ENV=production (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        records = os.environ.get("RECORDS_KEY", "")
        if records.strip().lower() in WEAK_SECRETS or len(records) < 32 or records == secret:
            raise ConfigurationError(
                "RECORDS_KEY must be set to its own random value of at least 32 characters "
                "when KELISIM_ENV=production; it keys the completion-record chain."
            )
        if "DATABASE_URL" not in os.environ:
            raise ConfigurationError("DATABASE_URL must be set when KELISIM_ENV=production.")
        self.SECRET_KEY = secret
        self.RECORDS_KEY = records


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"  # replaced by the test fixtures
    TEMPLATE_CACHE_DIR = None  # templates compiled in memory (tests/web/test_template_cache.py)
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    WTF_CSRF_ENABLED = True
    # The test client sends no Accept-Language: tests read English unless they choose a
    # language (login_as(language=...), an Accept-Language header, or DEFAULT_LANGUAGE
    # overridden, as tests/web/test_i18n.py does to check the real default, ru).
    DEFAULT_LANGUAGE = "en"

    def __init__(self) -> None:
        self.SECRET_KEY = "test-secret-key-" + "x" * 32
        self.RECORDS_KEY = "test-records-key-" + "y" * 32


def config_for_environment() -> Config:
    """Pick the configuration class named by KELISIM_ENV."""
    name = os.environ.get("KELISIM_ENV", "development").strip().lower()
    classes = {"development": DevelopmentConfig, "production": ProductionConfig}
    if name not in classes:
        raise ConfigurationError(
            f"KELISIM_ENV must be 'development' or 'production', not {name!r}."
        )
    return classes[name]()
