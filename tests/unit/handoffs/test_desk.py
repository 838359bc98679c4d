import datetime as dt

import pytest

from kefu.db.handoffs import HandoffRepository
from kefu.db.records import HandoffStatus
from kefu.handoffs.desk import (
    CLAIMED_NOTICE,
    CLOSED_NOTICE,
    MAX_REPLY_CHARS,
    HandoffDesk,
    HandoffError,
    handoff_json,
    transcript_from_events,
)

NOW = dt.datetime(2026, 11, 24, 15, 30)
RECORDED = [{"role": "customer", "text": "我要转人工"}]


class RecordingConversations:
    """The Rasa side of the desk, recording what the desk asks of it."""

    def __init__(self, live: list | None = None) -> None:
        self.live = live or []
        self.calls: list[tuple] = []

    async def transcript(self, sender_id):
        return self.live

    async def pause(self, sender_id, notice, agent):
        self.calls.append(("pause", sender_id, notice, agent))

    async def say(self, sender_id, text, agent):
        self.calls.append(("say", sender_id, text, agent))

    async def resume(self, sender_id, notice, agent):
        self.calls.append(("resume", sender_id, notice, agent))


@pytest.fixture
def repository(db_url):
    return HandoffRepository(db_url, lambda: NOW)


@pytest.fixture
def conversations():
    return RecordingConversations()


@pytest.fixture
def desk(conversations, repository):
    return HandoffDesk(conversations, repository)


@pytest.fixture
def waiting(repository):
    return repository.create("sender-1", "request_human", RECORDED, user_id="u1001")


def test_transcript_keeps_the_texts_of_customer_bot_and_agent():
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "在吗", "timestamp": 1764000000.0},
        {"event": "bot", "text": "您好", "metadata": {}},
        {"event": "bot", "text": "我是小王", "metadata": {"agent": "wang"}},
        {"event": "bot", "text": None},
        {"event": "user", "text": ""},
    ]
    assert transcript_from_events(events) == [
        {"role": "customer", "text": "在吗", "time": "2025-11-24T16:00:00+00:00"},
        {"role": "bot", "text": "您好"},
        {"role": "agent", "text": "我是小王", "agent": "wang"},
    ]


def test_transcript_keeps_only_the_last_turns():
    events = [{"event": "user", "text": str(i)} for i in range(10)]
    assert [t["text"] for t in transcript_from_events(events, limit=3)] == ["7", "8", "9"]


def test_handoff_json(waiting):
    data = handoff_json(waiting)
    assert data["status"] == "waiting"
    assert data["created_at"] == "2026-11-24T15:30:00"
    assert (data["claimed_by"], data["claimed_at"], data["closed_at"]) == (None, None, None)
    assert data["transcript"] == RECORDED
    assert handoff_json(waiting, [{"role": "bot", "text": "x"}])["transcript"] == [
        {"role": "bot", "text": "x"}
    ]


async def test_claim_reply_close_drive_the_conversation(desk, conversations, waiting):
    assert [h.id for h in desk.handoffs.list_waiting()] == [waiting.id]
    claimed = await desk.claim(waiting.id, "wang")
    assert (claimed.status, claimed.claimed_by) == (HandoffStatus.CLAIMED, "wang")
    assert desk.handoffs.list_waiting() == []
    await desk.reply(waiting.id, "wang", "  您好，我来帮您查  ")
    closed = await desk.close(waiting.id, "wang")
    assert closed.status is HandoffStatus.CLOSED
    assert conversations.calls == [
        ("pause", "sender-1", CLAIMED_NOTICE.format(agent="wang"), "wang"),
        ("say", "sender-1", "您好，我来帮您查", "wang"),
        ("resume", "sender-1", CLOSED_NOTICE, "wang"),
    ]


async def test_detail_prefers_the_live_conversation(repository, waiting):
    live = [{"role": "customer", "text": "还在吗"}]
    assert (await HandoffDesk(RecordingConversations(live), repository).detail(waiting.id))[1] == live
    assert (await HandoffDesk(RecordingConversations(), repository).detail(waiting.id))[1] == RECORDED


async def test_an_unknown_request_is_404(desk):
    with pytest.raises(HandoffError) as error:
        await desk.claim(999, "wang")
    assert error.value.status == 404


async def test_a_request_is_claimed_once(desk, conversations, waiting):
    await desk.claim(waiting.id, "wang")
    with pytest.raises(HandoffError) as error:
        await desk.claim(waiting.id, "li")
    assert error.value.status == 409
    assert [c[0] for c in conversations.calls] == ["pause"]


@pytest.mark.parametrize("action", ["reply", "close"])
async def test_only_the_agent_holding_a_request_works_on_it(desk, conversations, waiting, action):
    args = ("好的",) if action == "reply" else ()
    with pytest.raises(HandoffError, match="Claim the request first"):
        await getattr(desk, action)(waiting.id, "wang", *args)
    await desk.claim(waiting.id, "wang")
    with pytest.raises(HandoffError, match="Another agent") as error:
        await getattr(desk, action)(waiting.id, "li", *args)
    assert error.value.status == 409
    assert [c[0] for c in conversations.calls] == ["pause"]


async def test_a_closed_request_takes_no_more_replies(desk, waiting):
    await desk.claim(waiting.id, "wang")
    await desk.close(waiting.id, "wang")
    with pytest.raises(HandoffError, match="Claim the request first"):
        await desk.reply(waiting.id, "wang", "还有问题吗")


@pytest.mark.parametrize("text", [None, 3, "   ", "字" * (MAX_REPLY_CHARS + 1)])
async def test_a_reply_must_be_text_of_bounded_length(desk, conversations, waiting, text):
    await desk.claim(waiting.id, "wang")
    with pytest.raises(HandoffError) as error:
        await desk.reply(waiting.id, "wang", text)
    assert error.value.status == 400
    assert [c[0] for c in conversations.calls] == ["pause"]
