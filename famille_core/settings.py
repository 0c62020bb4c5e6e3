"""The configuration: one TOML file, validated at start-up.

A bad value stops start-up with a message naming the key and the reason
(:class:`~famille_core.errors.ConfigurationError`). Example::

    [collectivity]
    name = "Commune d'Harmonie"
    school_zone = "B"
    services = ["ENFANCE", "SCOLAIRE"]

    [[regies]]
    code = "default"
    name = "Régie enfance"
    numcli = "021289"

    [portal]
    plugins = ["profile", "inbox", "calendar", "billing", "tipi_payment"]

    [plugins.calendar]
    # per-plugin settings, validated by the plugin's settings class
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from attrs import Attribute, field, frozen, validators

from famille_core.convert import make_converter, structure
from famille_core.entities import Regie
from famille_core.errors import ConfigurationError, ValidationFailed

DEFAULT_PLUGINS = ("profile", "inbox", "calendar", "billing", "tipi_payment")


def _languages(_inst: object, _attr: object, value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError("languages : au moins une langue est nécessaire (par exemple [\"fr\"])")
    for code in value:
        if not code.replace("_", "").isalpha() or not 2 <= len(code) <= 5:
            raise ValueError(f"languages : « {code} » n'est pas un code de langue (fr, en, de_CH…)")


def http_url(_inst: object, attribute: Attribute[str], value: str) -> None:
    """An attrs validator for a plugin's setting: empty, or an absolute http(s) URL."""
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ValueError(f"{attribute.name}: an absolute http(s) URL is expected")


def _numcli(_inst: object, _attr: object, value: str) -> None:
    if not re.fullmatch(r"\d{6}", value):
        raise ValueError("numcli must be exactly 6 digits (leading zeros kept)")


@frozen(kw_only=True)
class CollectivitySettings:
    """Who runs the portal."""

    name: str = "Commune de démonstration"
    school_zone: str = field(default="C", validator=validators.in_(["A", "B", "C"]))
    """School-holiday zone (vacances scolaires)."""
    holidays_subdivision: str | None = None
    """Département for regional public holidays, e.g. ``"57"`` (Moselle) for Alsace-Moselle."""
    services: tuple[str, ...] = ("ENFANCE", "SCOLAIRE")
    """Municipal services, each with its own mailbox."""
    contact_email: str = ""
    address: str = ""
    closures: tuple[str, ...] = ()
    """Municipal closure days (ISO dates) for every activity."""


@frozen(kw_only=True)
class RegieSettings:
    """A régie, as written in the configuration."""

    code: str = "default"
    name: str = "Régie"
    numcli: str = field(default="000000", validator=_numcli)

    def to_entity(self) -> Regie:
        """The :class:`~famille_core.entities.Regie` value."""
        return Regie(code=self.code, name=self.name, numcli=self.numcli)


@frozen(kw_only=True)
class MailSettings:
    """Outgoing e-mail. ``mode = "outbox"`` writes ``.eml`` files (development default).

    Every e-mail is first queued in the database (``docs/mail.md``); ``delivery`` says who sends
    the queue: a thread of each web process (``background``), ``famille send-mail`` alone
    (``worker``), or the task queue's ``famille worker``, woken by the web processes through the
    queue (``queue``, docs/jobs.md).
    """

    mode: str = field(default="outbox", validator=validators.in_(["outbox", "smtp"]))
    delivery: str = field(
        default="background", validator=validators.in_(["background", "worker", "queue"])
    )
    max_attempts: int = field(default=10, validator=validators.in_(range(1, 101)))
    """Attempts before an e-mail is kept as failed for an operator."""
    retry_seconds: int = field(default=60, validator=validators.in_(range(1, 86_401)))
    """Delay before the first retry; it doubles at each failure (at most six hours)."""
    timeout_seconds: int = field(default=30, validator=validators.in_(range(1, 601)))
    """How long the SMTP client waits for the server at each step."""
    lease_seconds: int = field(default=600, validator=validators.in_(range(2, 86_401)))
    """How long a sender owns the e-mail it claimed: an e-mail whose sender died mid-send is due
    again after it. Keep it well above ``timeout_seconds`` (a sender still talking to a slow
    server past its lease lets another one send the same e-mail)."""
    outbox_dir: str = "outbox"
    sender: str = "portail-famille@localhost"
    host: str = "localhost"
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    ssl: bool = False


@frozen(kw_only=True)
class PortalSettings:
    """The portal itself."""

    plugins: tuple[str, ...] = DEFAULT_PLUGINS
    """Enabled plugins, by entry-point name (group ``famille.plugins``)."""
    database_url: str = ""
    """Empty: the ``FAMILLE_DATABASE_URL`` variable, else an SQLite file in the instance folder."""
    base_url: str = "http://127.0.0.1:5000"
    secret_key: str = ""
    """Empty: the ``FAMILLE_SECRET_KEY`` variable, else a random key kept in the instance folder."""
    production: bool = False
    theme_dir: str = ""
    session_idle_minutes: int = field(default=30, validator=validators.in_(range(1, 31)))
    login_limit: str = "5 per minute"
    """Password attempts (login, re-authentication, reset requests) per client address."""
    login_account_limit: str = "10 per hour"
    """Password attempts per account from browsers it has not logged in from (docs/security.md
    point 3: a browser that logged in before has its own count, so an attacker cannot lock the
    owner out)."""
    second_factor_limit: str = "5 per 15 minutes"
    """Wrong second-factor codes per account; the last one ends the pending login and the owner is
    told by e-mail."""
    limiter_storage: str = ""
    """Where attempt counters live, shared by every worker: empty for the portal's database, or a
    ``limits`` storage URI such as ``redis://127.0.0.1:6379/0``; ``FAMILLE_LIMITER_STORAGE``
    overrides it."""
    trusted_proxies: int = field(default=0, validator=validators.in_(range(0, 6)))
    """Reverse proxies in front of the portal whose ``X-Forwarded-For`` / ``X-Forwarded-Proto``
    are believed (0: none — the headers are ignored, so a forged one cannot dodge a limit)."""
    agent_second_factor: str = field(
        default="auto", validator=validators.in_(["auto", "optional", "required"])
    )
    """``required``: agents must enrol a TOTP application before using the portal; ``auto``
    (the default): required in production, optional elsewhere (docs/security.md point 8)."""
    activation_days: int = field(default=30, validator=validators.in_(range(1, 366)))
    """How long an invitation (e-mailed link or letter code) stays valid."""
    invite_imported_guardians: bool = False
    """``true``: a guardian an ERP import or the API creates is invited at once (an e-mail, or a
    letter waiting in "Comptes" → "Inviter"); otherwise ``famille invite`` does it when the town
    is ready."""
    account_services: tuple[str, ...] = ()
    """Services whose agents manage accounts ("Comptes": invitations, unlocking, deactivating);
    administrators always do."""
    acting_services: tuple[str, ...] = ()
    """Services whose agents act for a family ("Agir pour la famille": its Agenda, invoices and
    inbox, docs/agents.md); administrators always may."""

    @property
    def second_factor_required(self) -> bool:
        """True when agents must enrol a second factor before using the portal."""
        if self.agent_second_factor == "auto":
            return self.production
        return self.agent_second_factor == "required"
    health_data_retention_days: int = field(default=90, validator=validators.ge(0))
    """``famille purge`` removes a child's health record and photo this many days after the end
    of its last enrolment (docs/security.md point 28)."""
    feed_values_retention_days: int = field(default=30, validator=validators.ge(1))
    """The event feed keeps the old and new values of a changed field this many days; ``famille
    purge`` (and the nightly job) then blanks them, keeping which fields changed (docs/security.md
    point 28)."""
    recent_login_minutes: int = field(default=15, validator=validators.in_(range(1, 121)))
    """How long after typing their password a person may make sensitive changes (IBAN,
    authorised persons, e-mail) without typing it again."""
    languages: tuple[str, ...] = field(default=("fr",), validator=_languages)
    """Languages offered, best match of the browser's ``Accept-Language`` first; the first one is
    the default. Each one other than French needs a catalogue (docs/translation.md)."""
    upload_dir: str = "uploads"
    """Where uploaded files live, relative to the instance folder; never under static/."""
    page_cache_entries: int = field(default=500, validator=validators.in_(range(0, 100_001)))
    """Families' pages each worker keeps rendered (docs/deployment.md, "Fast pages"): at most this
    many, one per person and address; 0 turns the cache off."""
    page_cache_megabytes: int = field(default=8, validator=validators.in_(range(1, 1025)))
    """The most memory (megabytes of HTML) those pages take in each worker."""


def _bind(_inst: object, _attr: object, value: str) -> None:
    host, _, port = value.rpartition(":")
    if not value.startswith("unix:") and (not host or not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f"bind : « {value} » n'est pas une adresse d'écoute (127.0.0.1:8000, unix:/run/famille.sock)")


@frozen(kw_only=True)
class ServerSettings:
    """The production server, ``famille serve --production`` (gunicorn; docs/deployment.md)."""

    bind: str = field(default="127.0.0.1:8000", validator=_bind)
    """Where it listens: ``host:port`` or ``unix:/path``, behind the reverse proxy."""
    workers: int = field(default=2, validator=validators.in_(range(1, 65)))
    """Worker processes (each one request at a time): about two per processor core."""
    timeout_seconds: int = field(default=60, validator=validators.in_(range(5, 3601)))
    """A worker silent this long is killed and replaced."""
    graceful_timeout_seconds: int = field(default=30, validator=validators.in_(range(1, 3601)))
    """On a restart (``SIGHUP``) or stop (``SIGTERM``), how long workers may finish their requests."""
    access_log: bool = True
    """One line per request on the standard output, without secrets or cookies."""


@frozen(kw_only=True)
class LoggingSettings:
    """What the portal's processes log (docs/deployment.md, "Logs")."""

    format: str = field(default="text", validator=validators.in_(["text", "json"]))
    """``json``: one JSON object per line (time, level, logger, message, request_id)."""
    level: str = field(
        default="INFO", validator=validators.in_(["DEBUG", "INFO", "WARNING", "ERROR"])
    )


@frozen(kw_only=True)
class JobsSettings:
    """The task queue of ``famille worker`` (docs/jobs.md)."""

    storage: str = ""
    """Where jobs wait: empty for an SQLite file in the instance folder (``jobs.db``), or
    ``redis://…`` (extra ``redis``), ``postgresql://…`` (extra ``postgres``) or ``sqlite:///…``;
    ``FAMILLE_JOBS_STORAGE`` overrides it."""
    name: str = field(default="famille", validator=validators.matches_re(r"[A-Za-z0-9_]{1,40}"))
    """The queue's name: Redis keys start with ``<name>:``; two portals sharing a store need
    two names."""
    retries: int = field(default=5, validator=validators.in_(range(0, 101)))
    """Attempts after the first when a job fails (a job may ask for its own number)."""
    retry_seconds: int = field(default=30, validator=validators.in_(range(1, 86_401)))
    """Delay before the first retry of a failed job; it doubles at each retry."""


@frozen(kw_only=True)
class Settings:
    """The whole configuration."""

    collectivity: CollectivitySettings = CollectivitySettings()
    regies: tuple[RegieSettings, ...] = (RegieSettings(),)
    portal: PortalSettings = PortalSettings()
    mail: MailSettings = MailSettings()
    server: ServerSettings = ServerSettings()
    logging: LoggingSettings = LoggingSettings()
    jobs: JobsSettings = JobsSettings()
    plugins: dict[str, dict[str, Any]] = field(factory=dict)
    """Raw per-plugin tables, validated by each enabled plugin's settings class."""

    def regie(self, code: str = "default") -> Regie:
        """The régie named ``code`` (the first one when ``code`` is unknown)."""
        for regie in self.regies:
            if regie.code == code:
                return regie.to_entity()
        return self.regies[0].to_entity()


def _error_from(exc: ValidationFailed, prefix: str = "") -> ConfigurationError:
    details = "; ".join(
        f"{prefix}{issue.field or '(racine)'} : {issue.message}" for issue in exc.issues
    )
    return ConfigurationError(f"Configuration invalide — {details}")


def settings_from_mapping(data: dict[str, Any]) -> Settings:
    """Validate a configuration mapping (as read from TOML)."""
    try:
        return structure(make_converter(), data, Settings)
    except ValidationFailed as exc:
        raise _error_from(exc) from exc


def structure_plugin_settings(name: str, cls: type, raw: dict[str, Any]) -> Any:
    """Validate the ``[plugins.<name>]`` table with the plugin's settings class."""
    try:
        return structure(make_converter(), raw, cls)
    except ValidationFailed as exc:
        raise _error_from(exc, prefix=f"plugins.{name}.") from exc


def load_settings(path: str | Path | None) -> Settings:
    """Read and validate the TOML file at ``path`` (defaults when ``path`` is ``None``)."""
    if path is None:
        return Settings()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"Fichier de configuration introuvable : {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"Fichier de configuration illisible ({path}) : {exc}") from exc
    return settings_from_mapping(data)
