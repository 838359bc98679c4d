"""The dashboard's figures, computed from ``analytics_events`` on any supported database."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import and_, func, select

from kefu.analytics.events import ANSWER_SENT, FALLBACK, HANDOFF, QUESTION_ASKED
from kefu.db.engine import get_engine
from kefu.db.models import AnalyticsEventRow

E = AnalyticsEventRow.__table__.c
# Small talk and answers to the assistant's own questions are not "questions" for the top 10.
NOT_QUESTIONS = ("greet", "goodbye", "thank", "affirm", "deny", "inform", "bot_challenge")
# Pre-sales questions (kefu.catalog): counted, and the products their answers cite.
PRODUCT_INTENTS = ("ask_product", "recommend_product", "compare_products")
MAX_DAYS = 366


def percentile(values: list[int], fraction: float) -> int | None:
    """The nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def dashboard_figures(today: dt.date, days: int = 14, url: str | None = None) -> dict[str, Any]:
    """Figures of the ``days`` days ending ``today``: per day and in total.

    ``top_questions`` and ``intents`` cover the whole period; rates are per question asked, except the
    FAQ hit rate, which is per question the knowledge base was asked.
    """
    days = max(1, min(int(days), MAX_DAYS))
    first = today - dt.timedelta(days=days - 1)
    period = and_(E.day >= first.isoformat(), E.day <= today.isoformat())
    with get_engine(url).connect() as connection:
        counts = connection.execute(
            select(E.day, E.event_type, func.count()).where(period).group_by(E.day, E.event_type)
        ).all()
        faq_rows = connection.execute(
            select(E.day, E.faq_hit, func.count())
            .where(period, E.event_type == ANSWER_SENT, E.faq_hit.is_not(None))
            .group_by(E.day, E.faq_hit)
        ).all()
        latencies = connection.execute(
            select(E.day, E.latency_ms).where(period, E.event_type == ANSWER_SENT, E.latency_ms.is_not(None))
        ).all()
        intents = connection.execute(
            select(E.intent, func.count())
            .where(period, E.event_type == QUESTION_ASKED)
            .group_by(E.intent)
            .order_by(func.count().desc(), E.intent)
        ).all()
        top = connection.execute(
            select(E.question, func.count())
            .where(period, E.event_type == QUESTION_ASKED, E.question.is_not(None), E.question != "")
            .where(E.intent.is_(None) | E.intent.not_in(NOT_QUESTIONS))
            .group_by(E.question)
            .order_by(func.count().desc(), E.question)
            .limit(10)
        ).all()
        product_questions = connection.execute(
            select(func.count()).where(period, E.event_type == QUESTION_ASKED, E.intent.in_(PRODUCT_INTENTS))
        ).scalar_one()
        products = connection.execute(
            select(E.source_id, func.count())
            .where(period, E.event_type == ANSWER_SENT, E.source_type == "product")
            .group_by(E.source_id)
            .order_by(func.count().desc(), E.source_id)
            .limit(10)
        ).all()

    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    for day, kind, count in counts:
        per_type[day][kind] += count
    asked: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for day, hit, count in faq_rows:
        asked[day] += count
        if hit:
            hits[day] += count
    latency_by_day: dict[str, list[int]] = defaultdict(list)
    for day, latency in latencies:
        latency_by_day[day].append(int(latency))

    def figures(questions: int, fallbacks: int, handoffs: int, kb: int, kb_hits: int, lat: list[int]) -> dict:
        return {
            "questions": questions,
            "fallbacks": fallbacks,
            "handoffs": handoffs,
            "faq_asked": kb,
            "faq_hits": kb_hits,
            "faq_hit_rate": _rate(kb_hits, kb),
            "fallback_rate": _rate(fallbacks, questions),
            "handoff_rate": _rate(handoffs, questions),
            "latency_ms": {
                "p50": percentile(lat, 0.50),
                "p90": percentile(lat, 0.90),
                "p99": percentile(lat, 0.99),
            },
        }

    per_day = []
    for offset in range(days):
        day = (first + dt.timedelta(days=offset)).isoformat()
        c = per_type.get(day, Counter())
        per_day.append(
            {
                "day": day,
                **figures(
                    c[QUESTION_ASKED], c[FALLBACK], c[HANDOFF], asked[day], hits[day], latency_by_day[day]
                ),
            }
        )
    total: Counter[str] = Counter()
    for c in per_type.values():
        total.update(c)
    return {
        "from": first.isoformat(),
        "to": today.isoformat(),
        "days": days,
        "total": figures(
            total[QUESTION_ASKED],
            total[FALLBACK],
            total[HANDOFF],
            sum(asked.values()),
            sum(hits.values()),
            [value for values in latency_by_day.values() for value in values],
        ),
        "per_day": per_day,
        "top_questions": [{"question": question, "count": count} for question, count in top],
        "intents": [{"intent": intent or "(none)", "count": count} for intent, count in intents],
        "product_questions": product_questions,
        "products": [{"sku": sku, "count": count} for sku, count in products],
    }
