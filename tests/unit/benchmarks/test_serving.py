"""The serving benchmark's bookkeeping: goal ratios against vanilla, and the printed report."""

from __future__ import annotations

from benchmarks import serving


def level(throughput: float, p50: float, p99: float) -> dict:
    return {
        "throughput": throughput,
        "p50_ms": p50,
        "p95_ms": p99,
        "p99_ms": p99,
        "errors": 0,
        "memory": {"rasa": {"rss_mb": 500.0, "peak_rss_mb": 600.0}},
    }


def system(levels: dict[int, tuple[float, float, float]]) -> dict:
    return {f"concurrency_{c}": level(*figures) for c, figures in levels.items()}


def result(ours_32_throughput: float, turn_ratio: float) -> dict:
    vanilla = system({1: (30, 33, 40), 8: (30, 250, 600), 32: (30, 1000, 1500)})
    ours = system({1: (40, 25, 30), 8: (70, 100, 200), 32: (ours_32_throughput, 400, 500)})
    long = {"turn_5_ms": 25.0, "turn_150_ms": 25.0 * turn_ratio, "ratio": turn_ratio, "errors": 0}
    memory = {"rasa": {"rss_mb": 1.0, "peak_rss_mb": 1.0}}
    return {
        "vanilla": {**vanilla, "turn_5_vs_150": long, "memory": memory},
        "faq": {"ours": {**ours, "stored_conversations": {"checked": 40, "complete": 40, "broken": 0}}},
        "ours": {"turn_5_vs_150": long, "memory": memory},
        "ours_embedded": {"turn_5_vs_150": long, "memory": memory},
    }


def test_goals_are_ratios_of_the_faq_turn_against_vanilla():
    goals = serving.goals(result(ours_32_throughput=66, turn_ratio=1.1))
    assert goals["throughput_32_ratio"] == {"value": 2.2, "goal": ">= 2.0", "met": True}
    assert goals["p99_32_ratio"] == {"value": 0.33, "goal": "<= 0.4", "met": True}
    assert goals["p50_1_ratio"]["value"] == 0.76 and goals["p50_1_ratio"]["met"]
    assert goals["turn_150_vs_5"]["met"]
    missed = serving.goals(result(ours_32_throughput=45, turn_ratio=1.5))
    assert not missed["throughput_32_ratio"]["met"] and not missed["turn_150_vs_5"]["met"]


def test_the_report_names_every_system_the_stored_check_and_the_goals():
    figures = result(ours_32_throughput=45, turn_ratio=1.5)
    figures["goals"] = serving.goals(figures)
    text = serving.report(figures)
    assert "vanilla" in text and "ours_embedded: turn 5" in text
    assert "40 of 40 conversations complete (every message once, in order" in text
    assert "goal throughput_32_ratio: 1.5 (goal >= 2.0): NOT met" in text


def test_per_conversation_counts_are_dropped_from_the_results_only():
    tree = {"a": {"conversations": {"x": 1}, "stored_conversations": {"checked": 1}}, "b": [1]}
    serving._drop(tree, "conversations")
    assert tree == {"a": {"stored_conversations": {"checked": 1}}, "b": [1]}
