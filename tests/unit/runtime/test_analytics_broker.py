import datetime as dt

import pytest
from rasa.utils.endpoints import EndpointConfig

from kefu.analytics.events import TurnAnalyser
from kefu.analytics.publisher import AnalyticsPublisher, DatabaseSender
from kefu.analytics.spool import Spool
from kefu.analytics.stats import dashboard_figures
from kefu.analytics.store import AnalyticsStore
from kefu.runtime import analytics_broker
from kefu.runtime.analytics_broker import AnalyticsEventBroker, pika_broker, without_secrets
from kefu.security.masking import MASK
from kefu.settings import load_settings

DAY = dt.date(2026, 11, 2)
NOON = dt.datetime(2026, 11, 2, 4, tzinfo=dt.timezone.utc).timestamp()  # 12:00 in Shanghai


def turn(sender="c1", text="运费怎么算", metadata=None):
    """One conversation turn as Rasa hands its events to the broker."""
    user = {"sender_id": sender, "event": "user", "timestamp": NOON, "text": text, "message_id": "m1"}
    user |= {"parse_data": {"intent": {"name": "faq", "confidence": 0.9}}, "metadata": metadata or {}}
    return [
        user,
        {"sender_id": sender, "event": "action", "timestamp": NOON, "name": "action_answer_faq"},
        {"sender_id": sender, "event": "action", "timestamp": NOON + 0.2, "name": "action_listen"},
    ]


class RecordingPika:
    """Rasa's RabbitMQ broker as the analytics broker uses it (the real one is tested against RabbitMQ)."""

    def __init__(self, ready=False, fail=False):
        self.ready, self.fail, self.published, self.closed = ready, fail, [], False

    async def connect(self):
        if self.fail:
            raise ConnectionError("RabbitMQ is down")
        self.ready = True

    def is_ready(self):
        return self.ready

    def publish(self, event, headers=None):
        self.published.append((event, headers))

    async def close(self):
        self.closed = True


@pytest.fixture
def publisher(tmp_path, db_url):
    publisher = AnalyticsPublisher(Spool(tmp_path / "spool.db"), DatabaseSender(AnalyticsStore(db_url)))
    yield publisher
    publisher.close()


def test_without_secrets_masks_identity_tokens_in_a_copy():
    event = {"event": "user", "metadata": {"user_token": "t0ken", "api_key": "k", "channel": "web"}}
    masked = without_secrets(event)
    assert masked["metadata"] == {"user_token": MASK, "api_key": MASK, "channel": "web"}
    assert event["metadata"]["user_token"] == "t0ken"
    plain = {"event": "user", "metadata": {"channel": "web"}}
    assert without_secrets(plain) is plain
    assert without_secrets({"event": "bot", "metadata": None}) == {"event": "bot", "metadata": None}


async def test_pika_broker_reads_the_url():  # Rasa builds it on the running loop
    broker = pika_broker("amqps://kefu:p%40ss@mq.local:5999/shop", {"queues": ["q"], "exchange_name": "x"})
    assert (broker.username, broker.password, broker.port) == ("kefu", "p@ss", 5999)
    assert (broker.queues, broker.exchange_name) == (["q"], "x")
    default = pika_broker("amqp://127.0.0.1", {})
    assert (default.username, default.password, default.port) == ("guest", "guest", 5672)
    assert (default.queues, default.exchange_name) == (["rasa_events"], "rasa-exchange")
    assert pika_broker("amqps://127.0.0.1", {}).port == 5671


async def test_events_become_analytics_in_the_database(publisher, db_url):
    broker = AnalyticsEventBroker(TurnAnalyser(), publisher)
    for event in turn():
        broker.publish(event)
    assert broker.is_ready()
    assert publisher.flush(timeout=10)
    figures = dashboard_figures(DAY, 1, db_url)
    assert figures["total"]["questions"] == 1
    assert figures["top_questions"][0]["question"] == "运费怎么算"


async def test_a_failing_analyser_does_not_stop_the_conversation_events(publisher):
    class Broken(TurnAnalyser):
        def feed(self, event):
            raise RuntimeError("bad event")

    pika = RecordingPika(ready=True)
    broker = AnalyticsEventBroker(Broken(), publisher, pika)
    broker.publish({"event": "user", "text": "你好"}, {"h": "1"})
    assert pika.published == [({"event": "user", "text": "你好"}, {"h": "1"})]


async def test_conversation_events_wait_for_the_connection_in_order_and_without_tokens(publisher):
    pika = RecordingPika()
    broker = AnalyticsEventBroker(TurnAnalyser(), publisher, pika)
    events = turn(metadata={"user_token": "secret"})
    broker.publish(events[0])
    broker.publish(events[1])
    assert pika.published == []
    await broker._connect()
    broker.publish(events[2])
    assert [e["event"] for e, _ in pika.published] == ["user", "action", "action"]
    assert pika.published[0][0]["metadata"]["user_token"] == MASK
    await broker.close()
    assert pika.closed


async def test_a_failed_connection_keeps_the_events(publisher):
    pika = RecordingPika(fail=True)
    broker = AnalyticsEventBroker(TurnAnalyser(), publisher, pika)
    broker.publish({"event": "user", "text": "你好"})
    await broker._connect()
    assert pika.published == []
    assert len(broker._waiting) == 1


async def test_the_waiting_events_are_bounded(publisher):
    broker = AnalyticsEventBroker(TurnAnalyser(), publisher, RecordingPika())
    for number in range(analytics_broker.MAX_BUFFERED_EVENTS + 5):
        broker.publish({"event": "slot", "name": "n", "value": number})
    assert len(broker._waiting) == analytics_broker.MAX_BUFFERED_EVENTS
    assert broker._waiting[0][0]["value"] == 5  # the oldest went first


async def test_from_endpoint_config_without_rabbitmq(monkeypatch, publisher):
    monkeypatch.setattr(analytics_broker, "get_publisher", lambda: publisher)
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    monkeypatch.setattr(analytics_broker, "get_settings", load_settings)
    broker = await AnalyticsEventBroker.from_endpoint_config(EndpointConfig(type="x"))
    assert broker.conversations is None
    assert broker.publisher is publisher
    await broker.close()
