"""The dashboard's routes, called like Sanic calls them, on the real page and a real SQLite database."""

import json
from types import SimpleNamespace

import pytest
from sanic.compat import Header

from kefu.analytics.events import QUESTION_ASKED, make_event
from kefu.analytics.stats import MAX_DAYS
from kefu.analytics.store import AnalyticsStore
from kefu.channels.dashboard import ASSETS, ASSETS_DIR, SECURITY_HEADERS, DashboardInput
from kefu.settings import get_settings

TOKEN = "a-long-dashboard-test-token"


async def nothing(_):
    return None


@pytest.fixture
def board(db_url):
    channel = DashboardInput(admin_token=TOKEN, database_url=db_url)
    return {r.uri: r.handler for r in channel.blueprint(nothing)._future_routes}


def request(path="/dashboard/", authorization=None, args=None):
    headers = {"authorization": authorization} if authorization else {}
    return SimpleNamespace(path=path, headers=Header(headers), args=args or {})


async def summary(board, authorization=f"Bearer {TOKEN}", **args):
    answer = await board["/api/summary"](request(authorization=authorization, args=args))
    return answer.status, json.loads(answer.body), answer.headers


def test_defaults_to_the_configured_token():
    assert DashboardInput.from_credentials(None).admin_token == get_settings().dashboard_admin_token
    assert DashboardInput.from_credentials({"admin_token": "t"}).admin_token == "t"


async def test_the_figures_need_the_admin_token(board):
    for authorization in (None, "Bearer wrong", f"Basic {TOKEN}", TOKEN):
        status, data, headers = await summary(board, authorization)
        assert status == 401
        assert "Authorization: Bearer" in data["error"]
        assert headers["WWW-Authenticate"] == "Bearer"


async def test_the_figures_count_the_questions_asked(board, db_url):
    settings = get_settings()
    now = settings.now()
    AnalyticsStore(db_url).save(
        [
            make_event(QUESTION_ASKED, f"turn-{n}", "s", now, settings.shop_timezone, {"intent": "faq"})
            for n in range(3)
        ]
    )
    status, figures, headers = await summary(board, f"bearer  {TOKEN} ", days="7")
    assert status == 200
    assert (figures["days"], figures["to"], figures["total"]["questions"]) == (7, now.date().isoformat(), 3)
    assert len(figures["per_day"]) == 7
    assert headers["Cache-Control"] == "no-store"
    assert (await summary(board))[1]["days"] == 14


@pytest.mark.parametrize("days", ["0", str(MAX_DAYS + 1), "x", "-1"])
async def test_days_out_of_range_are_a_400(board, days):
    status, data, _ = await summary(board, days=days)
    assert status == 400
    assert str(MAX_DAYS) in data["error"]


async def test_the_page_and_its_assets_are_served_with_the_policy(board):
    redirect = await board["/"](request("/dashboard"))
    assert (redirect.status, redirect.headers["location"]) == (302, "/dashboard/")
    page = await board["/"](request())
    assert page.body == (ASSETS_DIR / "index.html").read_bytes()
    assert page.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    for name, content_type in ASSETS.items():
        asset = await board["/<name:str>"](request(f"/dashboard/{name}"), name)
        assert (asset.status, asset.content_type) == (200, content_type)
        assert asset.body == (ASSETS_DIR / name).read_bytes()
    assert (await board["/<name:str>"](request(), "index.html")).body == page.body
    assert (await board["/<name:str>"](request(), "secrets.txt")).status == 404
