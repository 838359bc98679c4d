import datetime as dt
import time

from kefu.analytics.events import TurnAnalyser
from kefu.analytics.publisher import AnalyticsPublisher, DatabaseSender
from kefu.analytics.spool import Spool
from kefu.analytics.stats import dashboard_figures, percentile
from kefu.analytics.store import AnalyticsStore
from kefu.db.engine import dispose_engine
from kefu.db.migrate import upgrade

DAY = dt.datetime(2026, 11, 2, 4, tzinfo=dt.timezone.utc).timestamp()  # 12:00 in Shanghai


def chat(analyser, number, intent, actions, source=None, latency=0.2):
    t = DAY + number
    raw = [
        {
            "sender_id": f"c{number % 3}",
            "event": "user",
            "timestamp": t,
            "text": f"问题{number % 4}",
            "message_id": f"m{number}",
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
        }
    ]
    raw += [{"sender_id": f"c{number % 3}", "event": "action", "timestamp": t, "name": a} for a in actions]
    if source:
        raw.append(
            {
                "sender_id": f"c{number % 3}",
                "event": "bot",
                "timestamp": t + latency,
                "data": {"custom": {"source": source}},
            }
        )
    raw.append(
        {"sender_id": f"c{number % 3}", "event": "action", "timestamp": t + latency, "name": "action_listen"}
    )
    return [event for r in raw for event in analyser.feed(r)]


def test_spooled_events_reach_the_database_once_and_survive_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade(url)
    analyser = TurnAnalyser()
    events = []
    for n in range(10):
        events += chat(
            analyser, n, "faq", ["action_answer_faq"], {"type": "faq", "id": "a"} if n % 2 else None
        )
    events += chat(analyser, 10, "request_human", ["action_request_human"])
    events += chat(analyser, 11, "ask_product", ["action_answer_product"], {"type": "product", "id": "P1003"})
    events += chat(analyser, 12, "ask_product", ["action_answer_product"], {"type": "product", "id": "P1003"})
    events += chat(
        analyser, 13, "recommend_product", ["action_answer_product"], {"type": "product", "id": "P1001"}
    )
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.add(events)
    spool.add(events)  # an id is spooled once
    assert len(spool) == len(events)
    spool.close()

    publisher = AnalyticsPublisher(Spool(tmp_path / "spool.sqlite3"), DatabaseSender(AnalyticsStore(url)))
    began = time.perf_counter()
    publisher.publish(events[:3])  # already spooled: still one each
    assert time.perf_counter() - began < 0.5
    assert publisher.flush(timeout=10)
    publisher.close()

    figures = dashboard_figures(dt.date(2026, 11, 2), days=2, url=url)
    total = figures["total"]
    assert total["questions"] == 14 and total["handoffs"] == 1
    assert (total["faq_asked"], total["faq_hits"], total["faq_hit_rate"]) == (10, 5, 0.5)
    assert total["fallbacks"] == 5 and total["fallback_rate"] == round(5 / 14, 4)
    assert figures["product_questions"] == 3
    assert figures["products"] == [{"sku": "P1003", "count": 2}, {"sku": "P1001", "count": 1}]
    assert total["latency_ms"]["p50"] == 200
    assert [d["day"] for d in figures["per_day"]] == ["2026-11-01", "2026-11-02"]
    assert figures["per_day"][0]["questions"] == 0 and figures["per_day"][1]["questions"] == 14
    assert figures["intents"][0] == {"intent": "faq", "count": 10}
    assert figures["top_questions"][0]["count"] == 4 and len(figures["top_questions"]) == 4
    dispose_engine(url)


def test_percentiles_use_the_nearest_rank():
    assert percentile([], 0.5) is None
    values = list(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.9), percentile(values, 0.99)) == (50, 90, 99)
