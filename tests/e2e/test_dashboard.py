"""The analytics dashboard of the running assistant: what customers asked shows up in its figures."""

from __future__ import annotations

import random
import string
import time
import uuid

import requests
from sqlalchemy import create_engine, text

from tests.e2e.conftest import DASHBOARD_TOKEN


def summary(assistant, token: str | None = DASHBOARD_TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{assistant.url}/dashboard/api/summary?days=3", headers=headers, timeout=30)


def test_the_page_is_served_without_outside_assets(assistant):
    page = requests.get(f"{assistant.url}/dashboard/", timeout=30)
    assert page.status_code == 200
    assert "<script" in page.text and "http://" not in page.text and "https://" not in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_the_figures_need_the_admin_token(assistant):
    assert summary(assistant, token=None).status_code == 401
    assert summary(assistant, token="not-the-token").status_code == 401
    assert requests.get(f"{assistant.url}/dashboard/api/summary?days=0", timeout=30).status_code == 401


def test_questions_asked_show_up_in_the_figures(assistant):
    before = summary(assistant).json()["total"]
    question = f"运费怎么算 {uuid.uuid4().hex[:6]}"
    assert assistant.texts(question)
    assert assistant.texts("转人工")

    deadline = time.monotonic() + 30
    while True:
        figures = summary(assistant).json()
        total = figures["total"]
        if total["questions"] >= before["questions"] + 2 and total["handoffs"] > before["handoffs"]:
            break
        assert time.monotonic() < deadline, f"the events did not reach the dashboard: {figures}"
        time.sleep(0.5)
    assert total["faq_hits"] > before["faq_hits"]
    assert total["latency_ms"]["p50"] is not None
    assert any(row["intent"] == "request_human" for row in figures["intents"])


def stored_events(assistant, marker: str) -> list[tuple[str, str]]:
    """(question, payload) of the analytics events whose question contains ``marker``."""
    engine = create_engine(assistant.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            query = text("SELECT question, payload FROM analytics_events WHERE question LIKE :marker")
            return [tuple(row) for row in connection.execute(query, {"marker": f"%{marker}%"})]
    finally:
        engine.dispose()


def test_phone_numbers_never_reach_the_analytics(assistant):
    marker = "".join(random.choices(string.ascii_lowercase, k=10))  # no digits: masking keeps it
    assert assistant.texts(f"我手机号13912345678，收货地址填错了 {marker}")
    deadline = time.monotonic() + 30
    while not (rows := stored_events(assistant, marker)):
        assert time.monotonic() < deadline, "the question did not reach the analytics events"
        time.sleep(0.5)
    assert all("13912345678" not in question and "13912345678" not in payload for question, payload in rows)
    assert "13912345678" not in summary(assistant).text
