import datetime as dt
import threading

import pytest
from sqlalchemy import select

from kefu.db.engine import session_scope
from kefu.db.handoffs import HandoffRepository
from kefu.db.models import HandoffRequestRow
from kefu.db.records import HandoffStatus

TRANSCRIPT = [{"role": "user", "text": "我要转人工 😀"}, {"role": "bot", "text": "好的"}]


@pytest.fixture
def handoffs(db_url, clock):
    return HandoffRepository(db_url, clock)


def test_create_and_get(handoffs, clock):
    created = handoffs.create("sender-1", "request_human", TRANSCRIPT, user_id="u1001", outside_hours=True)
    assert created.status is HandoffStatus.WAITING
    assert created.transcript == tuple(TRANSCRIPT)
    assert (created.user_id, created.outside_hours, created.created_at) == ("u1001", True, clock())
    assert handoffs.get(created.id) == created
    assert handoffs.get(created.id + 100) is None


def test_list_waiting_oldest_first_without_claimed(db_url):
    times = iter([dt.datetime(2026, 11, 24, 10, m) for m in range(10)])
    handoffs = HandoffRepository(db_url, lambda: next(times))
    first = handoffs.create("a", "request_human", [])
    second = handoffs.create("b", "request_human", [])
    third = handoffs.create("c", "request_human", [])
    assert handoffs.claim(second.id, "agent-7")
    assert [h.id for h in handoffs.list_waiting()] == [first.id, third.id]


def test_claim_once_then_close(handoffs, clock):
    created = handoffs.create("s", "request_human", TRANSCRIPT)
    assert handoffs.claim(created.id, "agent-1") is True
    assert handoffs.claim(created.id, "agent-2") is False
    claimed = handoffs.get(created.id)
    assert (claimed.status, claimed.claimed_by, claimed.claimed_at) == (
        HandoffStatus.CLAIMED,
        "agent-1",
        clock(),
    )
    assert handoffs.close(created.id) is True
    assert handoffs.close(created.id) is False
    closed = handoffs.get(created.id)
    assert (closed.status, closed.closed_at) == (HandoffStatus.CLOSED, clock())
    assert handoffs.claim(created.id, "agent-3") is False


def test_waiting_request_can_be_closed(handoffs):
    created = handoffs.create("s", "request_human", [])
    assert handoffs.close(created.id) is True
    assert handoffs.list_waiting() == []


def test_unknown_ids(handoffs):
    assert handoffs.claim(999, "agent") is False
    assert handoffs.close(999) is False


def test_open_for_sender(handoffs):
    assert handoffs.open_for_sender("s") is None
    created = handoffs.create("s", "request_human", [])
    assert handoffs.open_for_sender("s").id == created.id
    handoffs.close(created.id)
    assert handoffs.open_for_sender("s") is None


def test_concurrent_claims_one_agent_wins(handoffs):
    created = handoffs.create("s", "request_human", [])
    start = threading.Barrier(6)
    results = {}

    def claim(agent):
        start.wait()
        results[agent] = handoffs.claim(created.id, agent)

    threads = [threading.Thread(target=claim, args=(f"agent-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [agent for agent, won in results.items() if won]
    assert len(winners) == 1
    assert handoffs.get(created.id).claimed_by == winners[0]


def test_the_transcript_is_stored_encrypted(db_url, clock):
    handoffs = HandoffRepository(db_url, clock)
    secret = [{"role": "user", "text": "转人工，我手机13800138001，地址上海市浦东新区世纪大道100号"}]
    created = handoffs.create("sender-2", "request_human", secret)
    with session_scope(db_url) as session:
        stored = session.scalars(select(HandoffRequestRow.transcript_enc)).one()
    assert "13800138001" not in stored and "世纪大道" not in stored and "转人工" not in stored
    assert handoffs.get(created.id).transcript == tuple(secret)
