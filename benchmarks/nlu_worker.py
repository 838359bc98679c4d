"""One NLU system, trained or evaluated in a process of its own (so its time and peak memory are its own).

python -m benchmarks.nlu_worker rasa-train --config C --nlu TRAIN.yml --out DIR
python -m benchmarks.nlu_worker rasa-predict --model M.tar.gz --data TEST.yml --out preds.json
python -m benchmarks.nlu_worker tfidf-svm --train TRAIN.yml --data TEST.yml --out preds.json
python -m benchmarks.nlu_worker to-yaml --tsv FILE.tsv|FILE.csv --out FILE.yml

Predictions are written as ``{"gold": [...], "predicted": [...], "confidence": [...], "texts": [...]}``;
``predicted`` is the best intent before any fallback (``nlu_fallback`` is the separate
out-of-scope question, measured on the confidences).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def read_examples(path: Path) -> tuple[list[str], list[str]]:
    """Texts and intents of a Rasa NLU yml file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = [m for m in data.intent_examples if m.get("text")]
    return [m.get("text") for m in examples], [m.get("intent") for m in examples]


def tsv_to_yaml(tsv: Path, out: Path) -> int:
    """``text<TAB>label`` lines (``.csv``: ``sentence,label`` rows), with a header, as a Rasa NLU yml
    file; returns the number of examples."""
    import csv

    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    with tsv.open(encoding="utf-8", newline="") as rows:
        is_csv = tsv.suffix == ".csv"
        reader = csv.reader(
            rows, delimiter="," if is_csv else "\t", quoting=csv.QUOTE_MINIMAL if is_csv else csv.QUOTE_NONE
        )
        next(reader, None)
        pairs = [(row[0].strip(), row[-1].strip()) for row in reader if len(row) >= 2]
    messages = [Message(data={"text": text, "intent": label}) for text, label in pairs if text and label]
    out.write_text(TrainingData(training_examples=messages).nlu_as_yaml(), encoding="utf-8")
    return len(messages)


def rasa_train(config: Path, nlu: Path, out: Path) -> None:
    from kefu.runtime.patches import disable_phone_home

    disable_phone_home()
    from rasa.model_training import train_nlu

    train_nlu(config=str(config), nlu_data=str(nlu), output=str(out), fixed_model_name="nlu")


def rasa_predict(model: Path, data: Path) -> dict[str, Any]:
    import asyncio

    from kefu.runtime.patches import disable_phone_home

    disable_phone_home()
    from rasa.core.agent import Agent

    texts, gold = read_examples(data)
    agent = Agent.load(str(model))
    predicted, confidence = [], []
    started = time.perf_counter()
    for text in texts:
        parsed = asyncio.run(agent.parse_message(text))
        ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
        best = ranking[0] if ranking else parsed["intent"]
        predicted.append(best["name"])
        confidence.append(float(best.get("confidence") or 0.0))
    seconds = time.perf_counter() - started
    return {
        "texts": texts,
        "gold": gold,
        "predicted": predicted,
        "confidence": confidence,
        "predict_ms_per_message": round(1000 * seconds / max(len(texts), 1), 2),
    }


def tfidf_svm(train: Path, data: Path) -> dict[str, Any]:
    """Character 1-4-gram TF-IDF (sublinear) and a linear SVM: the classic strong baseline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    train_texts, train_labels = read_examples(train)
    texts, gold = read_examples(data)
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True)
    model = LinearSVC(C=1.0).fit(vectorizer.fit_transform(train_texts), train_labels)
    train_seconds = time.perf_counter() - started
    scores = model.decision_function(vectorizer.transform(texts))
    best = scores.argmax(axis=1)
    return {
        "texts": texts,
        "gold": gold,
        "predicted": [str(model.classes_[i]) for i in best],
        "confidence": [float(s[i]) for s, i in zip(scores, best)],
        "train_seconds_in_process": round(train_seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["rasa-train", "rasa-predict", "tfidf-svm", "to-yaml"])
    parser.add_argument("--config", type=Path)
    parser.add_argument("--nlu", type=Path)
    parser.add_argument("--train", type=Path)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--tsv", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "to-yaml":
        print(tsv_to_yaml(args.tsv, args.out))
    elif args.command == "rasa-train":
        rasa_train(args.config, args.nlu, args.out)
    else:
        result = rasa_predict(args.model, args.data) if args.command == "rasa-predict" else None
        result = result or tfidf_svm(args.train, args.data)
        args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
