"""The action server: rasa_sdk's, on the address from the settings, answering only the Rasa server.

rasa_sdk 3.6 has no authentication of its own, and its ``run`` listens on every interface: anyone
who reaches the port can post a hand-made tracker (say, with ``verified_orders`` naming any order)
and get what the actions would tell its verified owner. So the project starts the action server
through here: ``python -m kefu.action_server --actions actions --port 5055``.

- It listens on ``ACTION_SERVER_HOST`` (127.0.0.1 unless configured).
- Every request but ``GET /health`` must carry ``ACTION_SERVER_SECRET`` in the
  :data:`SECRET_HEADER` header (the Rasa server sends it, see
  :func:`kefu.runtime.endpoints.read_endpoints`); anything else gets 401 and runs nothing.
- No CORS: browsers never talk to the action server.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from kefu.security.action_secret import SECRET_HEADER, secret_matches

if TYPE_CHECKING:
    from sanic import Sanic
    from sanic.request import Request

    from kefu.settings import Settings

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def require_secret(app: Sanic, secret: str) -> None:
    """Makes ``app`` answer 401 to every request without ``secret``, except :data:`OPEN_PATHS`."""
    from sanic import response

    async def check(request: Request) -> Any:
        if request.path in OPEN_PATHS or secret_matches(request.headers.get(SECRET_HEADER), secret):
            return None
        logger.warning("Refused an action server call from %s without the shared secret.", request.ip)
        return response.json(
            {"error": f"Unauthorized: the {SECRET_HEADER} header must carry ACTION_SERVER_SECRET."},
            status=401,
        )

    app.register_middleware(check, "request")


def create_app(actions: str, secret: str, auto_reload: bool = False) -> Sanic:
    """rasa_sdk's app for the ``actions`` package, behind the shared-secret check."""
    from rasa_sdk.endpoint import create_app as create_sdk_app
    from rasa_sdk.plugin import plugin_manager

    app = create_sdk_app(actions, cors_origins="", auto_reload=auto_reload)
    require_secret(app, secret)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def warn_about_development_secret(settings: Settings) -> None:
    """Logs loudly when the development secret is in use (production refuses it in the settings)."""
    from kefu.settings import DEV_ACTION_SERVER_SECRET

    if settings.action_server_secret == DEV_ACTION_SERVER_SECRET:
        logger.warning(
            "ACTION_SERVER_SECRET is not set: the action server accepts the development secret, "
            "which anyone can read in the source. Set a random one (`openssl rand -hex 32`) for "
            "the Rasa server and the action server before anyone else can reach this machine."
        )


def main(argv: list[str] | None = None) -> None:
    """``python -m kefu.action_server``: rasa_sdk's command-line options, our address and check."""
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_argument_parser, create_ssl_context

    from kefu.security.masking import install_log_masking
    from kefu.settings import SettingsError, announce_mode, get_settings

    install_log_masking()  # rasa_sdk logs customers' text at debug level
    args = create_argument_parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    try:
        settings = get_settings()
    except SettingsError as exc:
        sys.exit(f"Configuration error: {exc}")
    announce_mode(settings, "The action server")
    warn_about_development_secret(settings)
    from kefu.db.migrate import upgrade_at_start

    upgrade_at_start(settings.database_url, "The action server")
    app = create_app(args.actions, settings.action_server_secret, args.auto_reload)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    protocol = "https" if ssl_context else "http"
    host = settings.action_server_host
    logger.info("Action endpoint is up and running on %s://%s:%s", protocol, host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
