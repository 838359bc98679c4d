"""Out-of-scope detection: a confidence threshold tuned on held-out data, by cross-validation.

A message is rejected as out of scope when the classifier's best intent is an out-of-scope intent
or its confidence is below the threshold. The threshold maximises the mean of in-scope accuracy
(in-scope messages given their intent, not rejected) and out-of-scope recall; it is chosen on four
fifths of the held-out set and applied to the fifth, for each fifth (the labels of the fifth being
scored are never seen), so the figures are not tuned on what they measure.

- shop: our held-out set (tests/nlu/test_nlu.yml, its ``out_of_scope`` examples), our pipeline.
- HINT3 v1 (English, real e-commerce traffic; optional cross-check): each bot trained on its
  full train file, tested on its test file, whose ``NO_NODES_DETECTED`` queries are out of scope;
  our pipeline and char TF-IDF + SVM, beside the published Rasa DIET in-scope accuracy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import intents

HINT3_BOTS = ("sofmattress", "curekart", "powerplay11")
HINT3_OOS = "NO_NODES_DETECTED"
PUBLISHED_DIET_IN_SCOPE = {"sofmattress": 0.693, "curekart": 0.841, "powerplay11": 0.491}


def _rates(
    predictions: dict[str, Any], oos_label: str, threshold: float, rows: np.ndarray
) -> tuple[float, float]:
    gold = np.asarray(predictions["gold"])[rows]
    predicted = np.asarray(predictions["predicted"])[rows]
    rejected = (predicted == oos_label) | (np.asarray(predictions["confidence"])[rows] < threshold)
    in_scope, oos = gold != oos_label, gold == oos_label
    accuracy = float(((predicted == gold) & ~rejected)[in_scope].mean()) if in_scope.any() else 0.0
    recall = float(rejected[oos].mean()) if oos.any() else 0.0
    return accuracy, recall


def tuned(predictions: dict[str, Any], oos_label: str, folds: int = 5, seed: int = 13) -> dict[str, Any]:
    """In-scope accuracy and OOS recall with the threshold chosen by ``folds``-fold cross-validation."""
    confidence = np.asarray(predictions["confidence"])
    count = len(confidence)
    values = np.unique(confidence)
    # Midways between neighbouring confidences (and one below all): every distinct decision.
    candidates = np.concatenate([[values[0] - 1.0], (values[1:] + values[:-1]) / 2])
    parts = np.array_split(np.random.default_rng(seed).permutation(count), folds)
    rejected_right = np.zeros(count, dtype=bool)  # per message: handled right under its fold's threshold
    thresholds = []
    for k, test in enumerate(parts):
        train = np.concatenate([p for j, p in enumerate(parts) if j != k])
        quality = np.array([sum(_rates(predictions, oos_label, t, train)) for t in candidates])
        best = float(np.median(candidates[quality >= quality.max() - 1e-12]))  # the middle of the best range
        thresholds.append(float(best))
        gold = np.asarray(predictions["gold"])[test]
        predicted = np.asarray(predictions["predicted"])[test]
        rejected = (predicted == oos_label) | (confidence[test] < best)
        rejected_right[test] = np.where(gold == oos_label, rejected, (predicted == gold) & ~rejected)
    gold = np.asarray(predictions["gold"])
    no_threshold = _rates(predictions, oos_label, -np.inf, np.arange(count))
    return {
        "in_scope_accuracy": round(float(rejected_right[gold != oos_label].mean()), 4),
        "oos_recall": round(float(rejected_right[gold == oos_label].mean()), 4),
        "threshold_mean": round(float(np.mean(thresholds)), 3),
        "in_scope_accuracy_no_threshold": round(no_threshold[0], 4),
        "oos_recall_no_threshold": round(no_threshold[1], 4),
        "in_scope": int((gold != oos_label).sum()),
        "out_of_scope": int((gold == oos_label).sum()),
    }


def shop(intent_results: dict[str, Any]) -> dict[str, Any]:
    predictions = intent_results.get("_predictions", {}).get("shop/ours")
    if predictions is None:
        return {"skipped": "the intents section did not run on the shop's held-out set"}
    return {
        "dataset": "tests/nlu/test_nlu.yml (held out), intent out_of_scope",
        "split": "held_out",
        "ours": tuned(predictions, "out_of_scope"),
    }


def hint3(data_dir: Path, systems: tuple[str, ...] = ("ours", "tfidf_svm")) -> dict[str, Any]:
    import tempfile

    folder = data_dir / "hint3" / "v1"
    if not folder.is_dir():
        return {"skipped": f"{folder} is missing; nothing measured"}
    results: dict[str, Any] = {
        "dataset": f"{os.path.relpath(folder, intents.ROOT)}: train/<bot>_train.csv -> test/<bot>_test.csv "
        f"({HINT3_OOS} = out of scope)",
        "split": "test",
        "published_rasa_diet_in_scope_accuracy": PUBLISHED_DIET_IN_SCOPE,
    }
    with tempfile.TemporaryDirectory(prefix="kefu-hint3-") as tmp:
        work = Path(tmp)
        for bot in HINT3_BOTS:
            train, test = work / f"{bot}-train.yml", work / f"{bot}-test.yml"
            for source, target in (
                (folder / "train" / f"{bot}_train.csv", train),
                (folder / "test" / f"{bot}_test.csv", test),
            ):
                intents.measured(
                    intents.worker("to-yaml", "--tsv", str(source), "--out", str(target)),
                    work / "convert.log",
                )
            results[bot] = {}
            for system in systems:
                print(f"  hint3 {bot}: {system} ...", flush=True)
                (work / bot).mkdir(exist_ok=True)
                outcome = intents.evaluate(system, train, test, work / bot)
                results[bot][system] = {
                    **tuned(outcome["predictions"], HINT3_OOS),
                    "train_seconds": outcome["figures"]["train_seconds"],
                    "train_peak_rss_mb": outcome["figures"]["train_peak_rss_mb"],
                }
    return results


def run(data_dir: Path, intent_results: dict[str, Any], with_hint3: bool = True) -> dict[str, Any]:
    return {"shop": shop(intent_results), "hint3": hint3(data_dir) if with_hint3 else {"skipped": "not run"}}


def report(results: dict[str, Any]) -> str:
    lines = ["Out-of-scope detection (threshold by 5-fold CV on the held-out set):"]
    shop_result = results["shop"]
    if "skipped" in shop_result:
        lines.append(f"  shop: skipped, {shop_result['skipped']}")
    else:
        r = shop_result["ours"]
        lines.append(
            f"  shop ours: in-scope accuracy {r['in_scope_accuracy']:.3f}, OOS recall {r['oos_recall']:.3f} "
            f"(threshold ~{r['threshold_mean']}; {r['out_of_scope']} OOS of "
            f"{r['in_scope'] + r['out_of_scope']})"
        )
    hint = results["hint3"]
    if "skipped" in hint:
        lines.append(f"  HINT3: skipped, {hint['skipped']}")
        return "\n".join(lines)
    lines.append("  HINT3 bot      system      in-scope acc  OOS recall  (published DIET in-scope)")
    for bot in HINT3_BOTS:
        for system, r in hint[bot].items():
            lines.append(
                f"  {bot:<13} {system:<11} {r['in_scope_accuracy']:>12.3f} {r['oos_recall']:>11.3f}"
                f"  ({PUBLISHED_DIET_IN_SCOPE[bot]:.3f})"
            )
    return "\n".join(lines)
