"""Analytics over the real RabbitMQ and the real databases: confirms, retries, parking, idempotence,
and the fault: RabbitMQ away while 200 messages are chatted, then back: every event arrives, once."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pika
import pytest
from sqlalchemy import func, select

from kefu.analytics.consumer import AnalyticsConsumer
from kefu.analytics.events import ANSWER_SENT, FALLBACK, HANDOFF, QUESTION_ASKED, TurnAnalyser, make_event
from kefu.analytics.publisher import AnalyticsPublisher, RabbitSender
from kefu.analytics.spool import Spool
from kefu.analytics.store import AnalyticsStore
from kefu.analytics.topology import ATTEMPTS_HEADER, EVENT_KEY
from kefu.db.engine import dispose_engine, get_engine
from kefu.db.migrate import upgrade
from kefu.db.models import AnalyticsEventRow
from tests.integration.analytics.conftest import queue_depth, via
from tests.integration.db.conftest import backend, database_url, migrated_url  # noqa: F401

pytestmark = pytest.mark.integration

TABLE = AnalyticsEventRow.__table__


def chat_turn(sender: str, number: int, t0: float) -> list[dict]:
    """The Rasa events of one chatted message: every 5th a FAQ miss, every 7th a handoff."""
    start = t0 + number
    intent = "request_human" if number % 7 == 0 else "faq"
    action = "action_request_human" if intent == "request_human" else "action_answer_faq"
    events = [
        {
            "sender_id": sender,
            "event": "user",
            "timestamp": start,
            "text": f"问题{number} 手机13800138001",
            "message_id": uuid.uuid4().hex,
            "input_channel": "rest",
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
        },
        {"sender_id": sender, "event": "action", "timestamp": start + 0.01, "name": action},
    ]
    if action == "action_answer_faq" and number % 5 != 0:
        events.append(
            {
                "sender_id": sender,
                "event": "bot",
                "timestamp": start + 0.05,
                "text": "答",
                "data": {"custom": {"source": {"type": "faq", "id": "shipping_fee"}}},
                "metadata": {},
            }
        )
    elif action == "action_answer_faq":
        events.append(
            {
                "sender_id": sender,
                "event": "bot",
                "timestamp": start + 0.05,
                "text": "不确定",
                "metadata": {"utter_action": "utter_faq_not_sure"},
            }
        )
    events.append(
        {"sender_id": sender, "event": "action", "timestamp": start + 0.06, "name": "action_listen"}
    )
    return events


def stored(url: str) -> tuple[int, int]:
    with get_engine(url).connect() as connection:
        rows, ids = connection.execute(
            select(func.count(), func.count(TABLE.c.event_id.distinct())).select_from(TABLE)
        ).one()
    return rows, ids


def test_publisher_confirms_persistent_messages_and_refuses_unroutable(
    rabbitmq_url, topology, rabbit, tmp_path
):
    sender = RabbitSender(rabbitmq_url, topology)
    events = [
        make_event(QUESTION_ASKED, f"t{n}", "s", dt.datetime(2026, 11, 1), "Asia/Shanghai", {})
        for n in range(3)
    ]
    try:
        sender.send([e.to_json() for e in events])  # returns once the broker confirmed every one
        assert queue_depth(rabbit, topology.events_queue) == 3
        _method, properties, _body = rabbit.basic_get(topology.events_queue, auto_ack=True)
        assert properties.delivery_mode == 2 and properties.message_id == events[0].event_id
        assert rabbit.queue_declare(topology.events_queue, passive=True).method.queue == topology.events_queue

        rabbit.queue_unbind(topology.events_queue, topology.exchange, routing_key=EVENT_KEY)
        with pytest.raises(pika.exceptions.UnroutableError):
            sender.send([events[0].to_json()])  # nobody takes it: an error, not a silent loss
    finally:
        sender.close()

    # The sender declares the topology again when it reconnects: the binding is back.
    publisher = AnalyticsPublisher(Spool(tmp_path / "spool.sqlite3"), RabbitSender(rabbitmq_url, topology))
    publisher.publish(events)
    assert publisher.flush(timeout=10)
    publisher.close()
    assert queue_depth(rabbit, topology.events_queue) == 2 + 3


def test_failed_writes_are_retried_with_delays_then_parked(rabbitmq_url, topology, rabbit, tmp_path):
    broken = f"sqlite:///{tmp_path / 'not-migrated.db'}"  # no analytics_events table: every write fails
    sender = RabbitSender(rabbitmq_url, topology)
    event = make_event(HANDOFF, "t-park", "s", dt.datetime(2026, 11, 1), "Asia/Shanghai", {})
    sender.send([event.to_json()])
    sender.close()

    started = time.monotonic()
    stats = AnalyticsConsumer(rabbitmq_url, AnalyticsStore(broken), topology).run(
        idle_timeout=1.5, max_seconds=30
    )
    elapsed = time.monotonic() - started

    assert (stats.stored, stats.retried, stats.parked) == (0, 2, 1)
    assert elapsed >= 0.6  # the two retry delays (0.2 s and 0.4 s) were waited
    assert queue_depth(rabbit, topology.events_queue) == 0
    _method, properties, body = rabbit.basic_get(topology.parking_queue, auto_ack=True)
    assert properties.headers[ATTEMPTS_HEADER] == topology.max_attempts == 3
    assert "OperationalError" in properties.headers["x-kefu-error"]
    assert body.decode() == event.to_json()

    # The cause fixed, a parked event shovelled back to the exchange is stored.
    upgrade(broken)
    rabbit.confirm_delivery()
    rabbit.basic_publish(topology.exchange, EVENT_KEY, body, pika.BasicProperties(delivery_mode=2))
    stats = AnalyticsConsumer(rabbitmq_url, AnalyticsStore(broken), topology).run(idle_timeout=1.0)
    assert stats.stored == 1 and stored(broken) == (1, 1)
    dispose_engine(broken)


def test_a_redelivered_event_is_stored_once_on_every_backend(rabbitmq_url, topology, migrated_url):  # noqa: F811
    events = [
        make_event(kind, f"turn-{n}", "s", dt.datetime(2026, 11, 1, 3), "Asia/Shanghai", {"intent": "faq"})
        for n in range(20)
        for kind in (QUESTION_ASKED, ANSWER_SENT)
    ]
    sender = RabbitSender(rabbitmq_url, topology)
    sender.send([e.to_json() for e in events])
    sender.send([e.to_json() for e in events[:15]])  # published again, as after a failed batch
    sender.close()

    stats = AnalyticsConsumer(rabbitmq_url, AnalyticsStore(migrated_url), topology).run(idle_timeout=1.0)

    assert (stats.stored, stats.duplicates) == (40, 15)
    assert stored(migrated_url) == (40, 40)


def test_rabbitmq_away_while_200_messages_are_chatted_every_event_arrives_once(
    rabbitmq_url, topology, rabbit, proxy, tmp_path
):
    database = f"sqlite:///{tmp_path / 'analytics.db'}"
    upgrade(database)
    spool_path = tmp_path / "spool.sqlite3"
    analyser = TurnAnalyser()
    publisher = AnalyticsPublisher(Spool(spool_path), RabbitSender(via(proxy, rabbitmq_url), topology))
    t0 = time.time()

    # Broker reachable: the first 20 messages go through at once.
    expected = []
    for number in range(20):
        for event in chat_turn(f"customer-{number % 9}", number, t0):
            derived = analyser.feed(event)
            expected += derived
            publisher.publish(derived)
    assert publisher.flush(timeout=15)

    proxy.cut()
    slowest = 0.0
    for number in range(20, 220):  # 200 messages chatted while RabbitMQ is unreachable
        for event in chat_turn(f"customer-{number % 9}", number, t0):
            derived = analyser.feed(event)
            expected += derived
            began = time.perf_counter()
            publisher.publish(derived)
            slowest = max(slowest, time.perf_counter() - began)
    time.sleep(1.0)
    assert publisher.pending() > 0
    publisher.close(timeout=2)  # the process stops while the broker is away...
    waiting = len(Spool(spool_path))

    publisher = AnalyticsPublisher(Spool(spool_path), RabbitSender(via(proxy, rabbitmq_url), topology))
    publisher.start()  # ...and starts again with what it had spooled
    proxy.restore()
    restored = time.monotonic()
    assert publisher.flush(timeout=60), f"{publisher.pending()} events still spooled"
    catch_up = time.monotonic() - restored
    publisher.close()

    stats = AnalyticsConsumer(rabbitmq_url, AnalyticsStore(database), topology).run(idle_timeout=2.0)
    ids = {event.event_id for event in expected}
    kinds = {
        kind: sum(e.event_type == kind for e in expected)
        for kind in (QUESTION_ASKED, ANSWER_SENT, FALLBACK, HANDOFF)
    }
    print(
        f"\n220 messages, {len(ids)} events {kinds}; {waiting} spooled during the outage; "
        f"slowest publish {slowest * 1000:.1f} ms; delivered {catch_up:.1f} s after the broker was back; "
        f"consumer {stats}"
    )

    assert len(ids) == len(expected) == 220 * 2 + kinds[FALLBACK] + kinds[HANDOFF]
    assert kinds[QUESTION_ASKED] == 220 and kinds[HANDOFF] == 32 and kinds[FALLBACK] == 44 - 7
    assert waiting > 0
    assert slowest < 0.25  # chatting never waited on the broker (a local SQLite insert)
    assert stored(database) == (len(ids), len(ids))
    with get_engine(database).connect() as connection:
        in_db = {row[0] for row in connection.execute(select(TABLE.c.event_id))}
        questions = [
            row[0]
            for row in connection.execute(select(TABLE.c.question).where(TABLE.c.question.is_not(None)))
        ]
    assert in_db == ids
    assert all("13800138001" not in q and "8001" not in q for q in questions)
    assert queue_depth(rabbit, topology.events_queue) == 0
    dispose_engine(database)
