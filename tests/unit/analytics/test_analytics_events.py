import datetime as dt

from kefu.analytics.events import AnalyticsEvent, TurnAnalyser, mask_question


def turn(sender, message_id, intent, actions, source=None, responses=(), t=1_700_000_000.0):
    events = [
        {
            "sender_id": sender,
            "event": "user",
            "timestamp": t,
            "text": "运费怎么算 13800138001",
            "message_id": message_id,
            "input_channel": "rest",
            "parse_data": {"intent": {"name": intent, "confidence": 0.87654}},
        }
    ]
    for name in actions:
        events.append({"sender_id": sender, "event": "action", "timestamp": t + 0.1, "name": name})
    if source:
        events.append(
            {
                "sender_id": sender,
                "event": "bot",
                "timestamp": t + 0.25,
                "data": {"custom": {"source": source}},
            }
        )
    for response in responses:
        events.append(
            {
                "sender_id": sender,
                "event": "bot",
                "timestamp": t + 0.25,
                "metadata": {"utter_action": response},
            }
        )
    events.append({"sender_id": sender, "event": "action", "timestamp": t + 0.3, "name": "action_listen"})
    return events


def derive(events):
    analyser = TurnAnalyser()
    return [event for raw in events for event in analyser.feed(raw)]


def test_a_faq_hit_gives_a_question_and_an_answer_with_source_and_latency():
    question, answer = derive(
        turn("c1", "m1", "faq", ["action_answer_faq"], {"type": "faq", "id": "shipping_fee"})
    )
    assert question.event_type == "question_asked" and answer.event_type == "answer_sent"
    assert question.data["question"].startswith("运费怎么算 138")
    assert "13800138001" not in question.data["question"]
    assert question.data["intent"] == "faq" and question.data["confidence"] == 0.8765
    assert answer.data == {
        "source_type": "faq",
        "source_id": "shipping_fee",
        "faq_hit": True,
        "latency_ms": 250,
        "intent": "faq",
    }
    assert question.sender != "c1" and question.turn_id == answer.turn_id
    assert question.day == "2023-11-15"


def test_a_knowledge_miss_is_a_fallback_and_a_handoff_is_reported():
    events = derive(turn("c1", "m2", "nlu_fallback", ["action_answer_faq"], responses=["utter_faq_not_sure"]))
    assert [e.event_type for e in events] == ["question_asked", "answer_sent", "fallback"]
    assert events[1].data["faq_hit"] is False and events[2].data["reason"] == "nlu_fallback"
    events = derive(turn("c2", "m3", "request_human", ["action_request_human"]))
    assert [e.event_type for e in events] == ["question_asked", "answer_sent", "handoff"]
    assert events[1].data["faq_hit"] is None and events[1].data["source_type"] == "template"


def test_event_ids_are_stable_so_a_replayed_stream_gives_the_same_events():
    raw = turn("c1", "m1", "faq", ["action_answer_faq"], {"type": "faq", "id": "x"})
    assert [e.event_id for e in derive(raw)] == [e.event_id for e in derive(raw)]
    assert len({e.event_id for e in derive(raw) + derive(turn("c1", "m9", "faq", []))}) == 4


def test_events_survive_json():
    event = derive(turn("c1", "m1", "greet", ["utter_greet"]))[0]
    assert AnalyticsEvent.from_json(event.to_json()) == event
    assert isinstance(event.occurred_at, dt.datetime)


def test_personal_data_is_masked_in_questions():
    assert mask_question("后四位是8001") == "后四位是****"
    assert mask_question("我的电话 138-0013-8001 谢谢").count("8001") == 0
    assert mask_question("北京市朝阳区建国路88号") == "北京市朝阳区****"
    assert mask_question("token eyJhbGciOi.eyJzdWIiOi.sig") == "token eyJ****"
    assert mask_question("lt 2026 1101 03 到哪了") == "lt 2026 1101 03 到哪了"
    assert mask_question("7天无理由退货吗") == "7天无理由退货吗"
