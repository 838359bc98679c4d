"""The analytics dashboard, served by the assistant at ``/dashboard/``, and its JSON API.

``GET /dashboard/`` the page (``kefu/dashboard/``: HTML, CSS and a script drawing inline SVG charts,
nothing from a CDN); ``GET /dashboard/api/summary?days=14`` the figures
(:func:`kefu.analytics.stats.dashboard_figures`) with ``Authorization: Bearer <DASHBOARD_ADMIN_TOKEN>``.
The page holds no data: it asks for the token and calls the API. Production refuses to start with an
empty or placeholder token (:mod:`kefu.settings`).

credentials.yml::

    kefu.channels.dashboard.DashboardInput: {}
"""

from __future__ import annotations

import asyncio
import hmac
from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.analytics.stats import MAX_DAYS, dashboard_figures
from kefu.channels.http import PAGE_HEADERS, HttpChannel, OnNewMessage
from kefu.settings import get_settings

ASSETS_DIR = Path(__file__).resolve().parent.parent / "dashboard"
ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    **PAGE_HEADERS,
    "Cache-Control": "no-store",
}


class DashboardInput(HttpChannel):
    """Serves the dashboard page and the figures; takes no messages."""

    channel_name = "dashboard"

    def __init__(self, admin_token: str | None = None, database_url: str | None = None) -> None:
        settings = get_settings()
        self.admin_token = admin_token or settings.dashboard_admin_token
        self.database_url = database_url

    def url_prefix(self) -> str:
        return "/dashboard"

    def authorised(self, request: Request) -> bool:
        """True when the request carries the admin token (compared in constant time)."""
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.admin_token.encode()
        )

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        board = Blueprint("kefu_dashboard")

        @board.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                return response.redirect(request.path + "/")
            return self._file("index.html", "text/html; charset=utf-8")

        @board.route("/api/summary", methods=["GET"])
        async def summary(request: Request) -> HTTPResponse:
            if not self.authorised(request):
                return response.json(
                    {"error": "需要管理令牌。 Authorization: Bearer <admin token> required."},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            try:
                days = int(request.args.get("days", "14"))
            except ValueError:
                days = 0
            if not 1 <= days <= MAX_DAYS:
                return response.json(
                    {"error": f"days must be a whole number from 1 to {MAX_DAYS}"}, status=400
                )
            today = get_settings().now().date()  # the calendar, not SHOP_TODAY: events carry real times
            figures = await asyncio.to_thread(dashboard_figures, today, days, self.database_url)
            return response.json(figures, headers={"Cache-Control": "no-store"})

        @board.route("/<name:str>", methods=["GET"])
        async def asset(_: Request, name: str) -> HTTPResponse:
            if name in ("", "index.html"):
                return self._file("index.html", "text/html; charset=utf-8")
            if name not in ASSETS:
                return response.text("Not Found", status=404)
            return self._file(name, ASSETS[name])

        return board

    def _file(self, name: str, content_type: str) -> HTTPResponse:
        return response.raw(
            (ASSETS_DIR / name).read_bytes(), content_type=content_type, headers=SECURITY_HEADERS
        )
