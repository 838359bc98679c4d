"""Out-of-scope threshold chosen by cross-validation on held-out predictions."""

from __future__ import annotations

import numpy as np

from benchmarks.oos import tuned


def _predictions(rng: np.random.Generator, in_scope: int, oos: int) -> dict:
    gold = ["a"] * in_scope + ["OOS"] * oos
    predicted = ["a"] * in_scope + ["a"] * oos
    confidence = list(rng.uniform(0.6, 1.0, in_scope)) + list(rng.uniform(0.0, 0.4, oos))
    return {"gold": gold, "predicted": predicted, "confidence": confidence}


def test_separable_confidences_give_a_threshold_between_them() -> None:
    result = tuned(_predictions(np.random.default_rng(1), 60, 40), "OOS")
    assert result["in_scope_accuracy"] == 1.0
    assert result["oos_recall"] == 1.0
    assert 0.0 <= result["threshold_mean"] <= 0.6
    assert result["oos_recall_no_threshold"] == 0.0
    assert (result["in_scope"], result["out_of_scope"]) == (60, 40)


def test_predicting_the_oos_label_counts_as_rejected_and_wrong_intents_stay_wrong() -> None:
    predictions = {
        "gold": ["a", "b", "OOS", "OOS"],
        "predicted": ["a", "a", "OOS", "OOS"],
        "confidence": [0.9, 0.9, 0.95, 0.95],
    }
    result = tuned(predictions, "OOS", folds=2)
    assert result["oos_recall"] == 1.0
    assert result["in_scope_accuracy"] <= 0.5
