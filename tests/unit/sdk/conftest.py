"""Fake answers of the assistant's SDK channel, shaped like the real ones."""

import pytest

from longtang_sdk.testing import json_response


def session_json(session_id: str = "s-1", **fields) -> dict:
    return {
        "session_id": session_id,
        "user_id": "user_123",
        "channel": "web",
        "context": {"history": []},
        "created_at": "2026-11-21T08:00:00+00:00",
        **fields,
    }


def reply_json(**fields) -> dict:
    return {
        "session_id": "s-1",
        "message_id": "m-1",
        "messages": [
            {"text": "在“我的订单”页面可以查看订单状态。"},
            {
                "custom": {
                    "source": {"type": "faq", "id": "faq_order_query", "title": "如何查询订单", "score": 0.91}
                }
            },
            {"text": "还需要别的帮助吗？", "buttons": [{"title": "转人工", "payload": "/request_human"}]},
        ],
        "intent": {"name": "faq", "confidence": 0.93},
        "entities": [{"entity": "order_id", "value": "LT2026110101", "start": 0, "end": 12}],
        "source": {"type": "faq", "id": "faq_order_query", "title": "如何查询订单", "score": 0.91},
        "replayed": False,
        **fields,
    }


@pytest.fixture
def created():
    return json_response(201, session_json())


@pytest.fixture
def replied():
    return json_response(200, reply_json())


@pytest.fixture
def answers():
    """Builders of the assistant's JSON answers: ``answers.session(...)``, ``answers.reply(...)``."""

    class Answers:
        session = staticmethod(session_json)
        reply = staticmethod(reply_json)

    return Answers
