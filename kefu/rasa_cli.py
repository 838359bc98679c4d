"""``rasa`` with telemetry and crash reporting switched off.

Rasa 3.6 sends usage telemetry unless ``RASA_TELEMETRY_ENABLED=false`` and, independently of that
flag, initialises Sentry crash reporting from a key shipped inside the package. A shop's
conversations must not leave its servers, so every Rasa command of this project goes through
here: ``python -m kefu.rasa_cli train|run|test|data validate ...``. The patches themselves, these
and those of the serving commands, are in :mod:`kefu.runtime.patches`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kefu.settings import Settings


# Commands that serve conversations: they get the endpoints built from the settings.
SERVING_COMMANDS = {"run", "shell"}


def prepare_serving() -> None:
    """Checks the configured services and installs every patch of the Rasa server
    (:func:`kefu.runtime.patches.install`), among them the endpoints built from the settings.

    Exits with a message naming the variable to fix when a setting is wrong or Redis is unreachable:
    the server never starts on a silent fallback.
    """
    from kefu.runtime import patches
    from kefu.runtime.redis import check_redis
    from kefu.settings import SettingsError, announce_mode, get_settings

    try:
        settings = get_settings()
        if settings.redis_url:
            check_redis(settings.redis_url)
        elif settings.sanic_workers > 1:
            raise SettingsError(
                f"SANIC_WORKERS={settings.sanic_workers} needs REDIS_URL: server processes can only share "
                "conversations through Redis; set REDIS_URL or SANIC_WORKERS=1"
            )
    except SettingsError as exc:
        sys.exit(f"Configuration error: {exc}")
    announce_mode(settings, "The Rasa server")
    from kefu.db.migrate import upgrade_at_start

    upgrade_at_start(settings.database_url, "The Rasa server")
    patches.install()


def with_server_options(argv: list[str], settings: Settings) -> list[str]:
    """``argv`` of ``rasa run`` with the address, CORS origins and response timeout from the settings
    (``RASA_INTERFACE``, ``ALLOWED_ORIGINS``, ``CHAT_RESPONSE_TIMEOUT_SECONDS``), unless it names them.

    Without ``--cors`` Rasa sends no CORS headers at all: only pages of the same origin (those the
    server serves) can call it from a browser.
    """
    if argv[1:2] != ["run"] or argv[2:3] == ["actions"]:
        return argv
    argv = list(argv)
    if "--response-timeout" not in argv:
        argv += ["--response-timeout", str(settings.chat_response_timeout_seconds)]
    if "--interface" not in argv and "-i" not in argv:
        argv += ["--interface", settings.rasa_interface]
    if "--cors" not in argv and settings.allowed_origins:
        argv += ["--cors", *settings.allowed_origins]
    return argv


def main() -> None:
    from kefu.runtime import patches

    patches.disable_phone_home()
    patches.mask_logs()
    if sys.argv[1:2] and sys.argv[1] in SERVING_COMMANDS and sys.argv[2:3] != ["actions"]:
        prepare_serving()
        from kefu.settings import get_settings

        sys.argv = with_server_options(sys.argv, get_settings())
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
