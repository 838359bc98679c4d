"""The web chat page, served by the assistant at ``/webchat/``.

The page (``kefu/webchat/``) talks to the socket.io channel (:mod:`kefu.channels.socketio`)
of the same server; this channel only serves its files, every one from the project (the socket.io
client is vendored from the npm package ``socket.io-client``), never from a CDN. A strict Content
Security Policy allows scripts, styles and connections to this origin only.

credentials.yml (next to the socket.io channel, whose event names and path the page must use)::

    kefu.channels.webchat.WebchatInput:
      socketio_path: /socket.io
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
"""

from __future__ import annotations

import html
from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.channels.http import PAGE_HEADERS, HttpChannel, OnNewMessage

ASSETS_DIR = Path(__file__).resolve().parent.parent / "webchat"

# The files the page may load: URL name -> (path under ASSETS_DIR, content type).
ASSETS = {
    "chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    "chat.css": ("chat.css", "text/css; charset=utf-8"),
    "socket.io.min.js": ("vendor/socket.io.min.js", "text/javascript; charset=utf-8"),
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    ),
    **PAGE_HEADERS,
}


class WebchatInput(HttpChannel):
    """Serves the web chat page and its assets; the conversation itself goes over socket.io."""

    channel_name = "webchat"

    def __init__(
        self,
        socketio_path: str = "/socket.io",
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        title: str = "龙堂商城 · 在线客服",
        assets_dir: Path | str = ASSETS_DIR,
    ) -> None:
        self.socketio_path = socketio_path
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.title = title
        self.assets_dir = Path(assets_dir)
        if not (self.assets_dir / "index.html").is_file():
            raise FileNotFoundError(f"the web chat page is missing: {self.assets_dir / 'index.html'}")

    def url_prefix(self) -> str:
        # Absolute, so that Rasa mounts the page at /webchat rather than /webhooks/webchat.
        return "/webchat"

    def page(self) -> str:
        """index.html with this deployment's title, socket.io path and event names filled in."""
        values = {
            "title": self.title,
            "socketio_path": self.socketio_path,
            "user_message_evt": self.user_message_evt,
            "bot_message_evt": self.bot_message_evt,
        }
        text = (self.assets_dir / "index.html").read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
        return text

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """``GET /webchat/`` the page, ``GET /webchat/<asset>`` its scripts and styles."""
        page = Blueprint("kefu_webchat")

        @page.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                # The page loads its assets by relative URL: /webchat must become /webchat/.
                return response.redirect(request.path + "/")
            return self._page_response()

        @page.route("/<name:str>", methods=["GET"])
        async def asset(_: Request, name: str) -> HTTPResponse:
            if name in ("", "index.html"):  # Sanic routes /webchat/ here, with an empty name
                return self._page_response()
            if name not in ASSETS:
                return response.text("Not Found", status=404)
            path, content_type = ASSETS[name]
            return response.raw(
                (self.assets_dir / path).read_bytes(),
                content_type=content_type,
                headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
            )

        return page

    def _page_response(self) -> HTTPResponse:
        return response.html(self.page(), headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
