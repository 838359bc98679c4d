import datetime as dt

import pytest

from actions.handoff_actions import REASON_BOT_FAILED, ActionOutOfScope, ActionRequestHuman, HandoffOffer
from kefu.db.engine import dispose_engine
from kefu.db.handoffs import HandoffRepository
from kefu.db.migrate import upgrade
from tests.unit.actions.conftest import make_tracker

EVENTS = [
    {"event": "user", "text": "运费怎么算", "timestamp": 1795500000.0},
    {"event": "bot", "text": "满99元包邮。", "timestamp": 1795500001.0},
    {"event": "user", "text": "转人工", "timestamp": 1795500002.0},
]


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 24, hour, minute)


@pytest.fixture
def handoffs(tmp_path):
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade(url)
    yield HandoffRepository(url)
    dispose_engine(url)


def action(handoffs, hour: int, minute: int = 0) -> ActionRequestHuman:
    return ActionRequestHuman(HandoffOffer(clock=lambda: at(hour, minute), handoffs=handoffs))


async def test_within_agent_hours_the_customer_is_transferred(dispatcher, handoffs):
    await action(handoffs, 10).run(dispatcher, make_tracker("转人工", events=EVENTS), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_now"]
    [queued] = handoffs.list_waiting()
    assert queued.sender_id == "customer-1" and not queued.outside_hours
    assert [t["text"] for t in queued.transcript] == ["运费怎么算", "满99元包邮。", "转人工"]
    assert [t["role"] for t in queued.transcript] == ["customer", "bot", "customer"]


async def test_asking_twice_queues_once(dispatcher, handoffs):
    for _ in range(2):
        await action(handoffs, 10).run(dispatcher, make_tracker("转人工", events=EVENTS), {})
    assert len(handoffs.list_waiting()) == 1


async def test_late_evening_agents_are_back_tomorrow_morning_and_the_request_is_kept(dispatcher, handoffs):
    await action(handoffs, 22, 30).run(dispatcher, make_tracker("转人工"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_closed"
    assert message["back"] == "明天09:00"
    assert message["hours"] == "09:00-21:00"
    assert handoffs.list_waiting()[0].outside_hours


async def test_early_morning_agents_are_back_today(dispatcher, handoffs):
    await action(handoffs, 7).run(dispatcher, make_tracker("转人工"), {})
    assert dispatcher.messages[0]["back"] == "今天09:00"


async def test_a_database_outage_still_answers(dispatcher, tmp_path):
    broken = HandoffRepository(f"sqlite:///{tmp_path / 'not-migrated.db'}")  # no tables
    await action(broken, 10).run(dispatcher, make_tracker("转人工"), {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_now"


# ---- the bot fails twice: a human is offered and the request queued without being asked ---------
FAILED_ONCE = [
    {"event": "user", "text": "明天会下雨吗", "timestamp": 1795500000.0},
    {
        "event": "bot",
        "text": "抱歉，这个问题超出了我的服务范围",
        "metadata": {"utter_action": "utter_out_of_scope"},
    },
    {"event": "user", "text": "火星上有快递吗", "timestamp": 1795500002.0},
]


def offer(handoffs, hour: int = 10) -> HandoffOffer:
    return HandoffOffer(clock=lambda: at(hour), handoffs=handoffs)


async def test_a_first_out_of_scope_message_gets_the_usual_answer(dispatcher, handoffs):
    await ActionOutOfScope(offer(handoffs)).run(
        dispatcher, make_tracker("明天会下雨吗", events=FAILED_ONCE[:1]), {}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"]
    assert handoffs.list_waiting() == []


async def test_out_of_scope_after_a_failure_offers_a_human_and_queues_the_request(dispatcher, handoffs):
    tracker = make_tracker("火星上有快递吗", intent="out_of_scope", events=FAILED_ONCE)
    await ActionOutOfScope(offer(handoffs)).run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_after_failures"]
    [queued] = handoffs.list_waiting()
    assert queued.reason == REASON_BOT_FAILED and queued.sender_id == "customer-1"
    assert [t["text"] for t in queued.transcript if t["role"] == "customer"] == [
        "明天会下雨吗",
        "火星上有快递吗",
    ]


async def test_the_knowledge_base_unsure_after_a_failure_offers_a_human(dispatcher, handoffs):
    from actions.faq_actions import ActionAnswerFaq

    class Unsure:
        def answer(self, question, min_score=None):
            return None

    tracker = make_tracker("火星上有快递吗", intent="nlu_fallback", events=FAILED_ONCE)
    await ActionAnswerFaq(lambda: Unsure(), offer(handoffs, hour=22)).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_after_failures_closed" and message["back"] == "明天09:00"
    assert handoffs.list_waiting()[0].outside_hours


async def test_the_domain_has_the_offer_and_the_action(domain):
    assert "action_out_of_scope" in domain["actions"]
    assert {"utter_handoff_after_failures", "utter_handoff_after_failures_closed"} <= set(domain["responses"])
