import datetime as dt

import pytest

from kefu.handoffs.hours import FAILURE_RESPONSES, FAILURES_BEFORE_HANDOFF, AgentHours, failures_before_latest


@pytest.mark.parametrize(
    ("hour", "minute", "open_"),
    [(8, 59, False), (9, 0, True), (15, 30, True), (20, 59, True), (21, 0, False), (23, 59, False)],
)
def test_agents_work_nine_to_nine(hour, minute, open_):
    assert AgentHours().is_open(dt.datetime(2026, 11, 24, hour, minute)) is open_


def test_next_opening():
    hours = AgentHours()
    assert hours.next_opening(dt.datetime(2026, 11, 24, 22, 0)) == dt.datetime(2026, 11, 25, 9, 0)
    assert hours.next_opening(dt.datetime(2026, 11, 24, 3, 0)) == dt.datetime(2026, 11, 24, 9, 0)
    assert hours.next_opening(dt.datetime(2026, 11, 24, 12, 0)) == dt.datetime(2026, 11, 24, 12, 0)


def _user(text: str) -> dict:
    return {"event": "user", "text": text}


def _bot(utter_action: str | None) -> dict:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": utter_action} if utter_action else {}}


def test_no_failure_before_the_first_message():
    assert failures_before_latest([]) == 0
    assert failures_before_latest([_user("你好")]) == 0


def test_unanswered_messages_in_a_row_are_counted_back_from_the_latest():
    events = [
        _user("运费多少"),
        _bot(None),  # an answer
        _user("明天下雨吗"),
        _bot("utter_out_of_scope"),
        _user("火星有快递吗"),
        _bot("utter_faq_not_sure"),
        _user("那月球呢"),  # being answered now
    ]
    assert failures_before_latest(events) == 2
    assert failures_before_latest(events[:5]) == 1
    assert failures_before_latest(events[:3]) == 0


def test_an_answer_an_agent_or_a_new_session_starts_the_count_afresh():
    failed = [_user("a"), _bot("utter_default")]
    assert failures_before_latest([*failed, _user("b"), _bot(None), _user("c")]) == 0
    agent = {"event": "bot", "text": "我是人工客服", "metadata": {"agent": "a1"}}
    assert failures_before_latest([*failed, _user("b"), agent, _user("c")]) == 0
    assert failures_before_latest([*failed, {"event": "session_started"}, _user("c")]) == 0
    assert failures_before_latest([*failed, {"event": "restart"}, _user("c")]) == 0
    assert FAILURES_BEFORE_HANDOFF == 2 and "utter_out_of_scope" in FAILURE_RESPONSES
