"""Evaluates the trained NLU on the held-out test set and fails below the accuracy thresholds.

python -m kefu.nlu_eval --model models/kefu.tar.gz --data tests/nlu/test_nlu.yml
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

MIN_ACCURACY = 0.90
MIN_MACRO_F1 = 0.88


def read_report(out: Path) -> dict[str, float]:
    """Accuracy and macro-F1 from ``rasa test nlu``'s intent report."""
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    return {"accuracy": float(report["accuracy"]), "macro_f1": float(report["macro avg"]["f1-score"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", default="results/nlu")
    parser.add_argument("--min-accuracy", type=float, default=MIN_ACCURACY)
    parser.add_argument("--min-macro-f1", type=float, default=MIN_MACRO_F1)
    args = parser.parse_args(argv)

    out = Path(args.out)
    command = [
        sys.executable,
        "-m",
        "kefu.rasa_cli",
        "test",
        "nlu",
        "--model",
        args.model,
        "--nlu",
        args.data,
        "--out",
        str(out),
        "--no-plot",
    ]
    subprocess.run(command, check=True)
    scores = read_report(out)
    print(
        f"NLU on {args.data}: accuracy {scores['accuracy']:.3f} (min {args.min_accuracy}), "
        f"macro-F1 {scores['macro_f1']:.3f} (min {args.min_macro_f1})"
    )
    errors = out / "intent_errors.json"
    if errors.exists():
        for error in json.loads(errors.read_text(encoding="utf-8"))[:40]:
            print(f"  {error['intent']:>16} -> {error['intent_prediction']['name']:<16} {error['text']}")
    if scores["accuracy"] < args.min_accuracy or scores["macro_f1"] < args.min_macro_f1:
        print("NLU evaluation below threshold", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
