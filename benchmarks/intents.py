"""Intent classification side by side: our NLU pipeline, Rasa's suggested default, char TF-IDF + SVM.

Datasets:
- SMP2017-ECDT task 1 (``<benchmarks dir>/smp2017``: 31 Chinese intents; trained on train.tsv,
  reported on develop.tsv; read at run time, converted to Rasa NLU yml in a temporary folder).
- Our shop's held-out set: trained on data/nlu, reported on tests/nlu/test_nlu.yml.

Systems, each trained and evaluated in processes of their own (wall time and peak RSS per process):
- ``ours``: the NLU pipeline of config.yml, as it is (``rasa train nlu``);
- ``rasa_default``: what ``rasa init`` gives a user (``language: en``, no pipeline: Rasa's suggested
  pipeline, WhitespaceTokenizer + CountVectors + DIET, 100 epochs); ``language: zh`` is refused;
- ``tfidf_svm``: character 1-4-gram TF-IDF and a linear SVM (scikit-learn, C=1).

Accuracy and macro-F1 are on the best intent before the fallback threshold; out-of-scope
detection is a separate section (benchmarks/oos.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHOP_TRAIN = ROOT / "data" / "nlu"
SHOP_TEST = ROOT / "tests" / "nlu" / "test_nlu.yml"
SYSTEMS = ("ours", "rasa_default", "tfidf_svm")
PUBLISHED = {"smp2017": "best published F1 0.945 (SMP2017-ECDT test split, not this develop split)"}
RASA_DEFAULT_CONFIG = "recipe: default.v1\nlanguage: en\npipeline:\n"


def measured(command: list[str], log: Path) -> dict[str, float]:
    """Runs ``command`` to completion; its wall time and peak resident memory (of the process tree)."""
    # RASA_MAX_CACHE_SIZE=0: no training cache, every run trains from scratch (honest timings).
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_MAX_CACHE_SIZE": "0",
    }
    started = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(command[2:5])} failed ({process.returncode}):\n{tail}")
    return {"seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def worker(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.nlu_worker", *args]


def ours_config(path: Path) -> Path:
    """config.yml's NLU pipeline (policies dropped: NLU only)."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    config.pop("policies", None)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def scores(predictions: dict[str, Any]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score

    gold, predicted = predictions["gold"], predictions["predicted"]
    return {
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro", labels=sorted(set(gold)))), 4),
        "examples": len(gold),
    }


def evaluate(system: str, train: Path, test: Path, work: Path) -> dict[str, Any]:
    """Trains ``system`` on ``train`` (Rasa yml), predicts ``test``; figures and raw predictions."""
    log = work / f"{system}.log"
    predictions_file = work / f"{system}-predictions.json"
    if system == "tfidf_svm":
        run = measured(
            worker("tfidf-svm", "--train", str(train), "--data", str(test), "--out", str(predictions_file)),
            log,
        )
        training = {
            "train_seconds": run["seconds"],
            "train_peak_rss_mb": run["peak_rss_mb"],
            "note": "train_seconds: the whole process (loading, training and predicting)",
        }
    else:
        config = ours_config(work / "ours.yml") if system == "ours" else work / "rasa_default.yml"
        if system == "rasa_default":
            config.write_text(RASA_DEFAULT_CONFIG, encoding="utf-8")
        models = work / f"models-{system}"
        run = measured(
            worker("rasa-train", "--config", str(config), "--nlu", str(train), "--out", str(models)), log
        )
        training = {"train_seconds": run["seconds"], "train_peak_rss_mb": run["peak_rss_mb"]}
        measured(
            worker(
                "rasa-predict",
                "--model",
                str(models / "nlu.tar.gz"),
                "--data",
                str(test),
                "--out",
                str(predictions_file),
            ),
            log,
        )
    predictions = json.loads(predictions_file.read_text(encoding="utf-8"))
    result = {**scores(predictions), **training}
    if "predict_ms_per_message" in predictions:
        result["predict_ms_per_message"] = predictions["predict_ms_per_message"]
    return {"figures": result, "predictions": predictions}


def smp2017_files(data_dir: Path, work: Path, limit: int | None = None) -> tuple[Path, Path] | None:
    """SMP2017 train and develop as Rasa yml in ``work`` (``limit``: examples per intent, for smoke runs)."""
    folder = data_dir / "smp2017"
    if not (folder / "train.tsv").is_file() or not (folder / "develop.tsv").is_file():
        return None
    files = []
    for split in ("train", "develop"):
        tsv = folder / f"{split}.tsv"
        if limit:
            tsv = _subset(tsv, work / f"{split}-subset.tsv", limit)
        out = work / f"smp2017-{split}.yml"
        subprocess.run(
            worker("to-yaml", "--tsv", str(tsv), "--out", str(out)),
            cwd=ROOT,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
        )
        files.append(out)
    return files[0], files[1]


def _subset(tsv: Path, out: Path, per_label: int, labels: int = 4) -> Path:
    lines = tsv.read_text(encoding="utf-8").splitlines()
    kept: dict[str, list[str]] = {}
    for line in lines[1:]:
        label = line.rpartition("\t")[2]
        if label in kept or len(kept) < labels:
            bucket = kept.setdefault(label, [])
            if len(bucket) < per_label:
                bucket.append(line)
    out.write_text(
        "\n".join([lines[0]] + [line for bucket in kept.values() for line in bucket]) + "\n", encoding="utf-8"
    )
    return out


def run(data_dir: Path, systems: tuple[str, ...] = SYSTEMS, smoke: bool = False) -> dict[str, Any]:
    """Every system on SMP2017 (train -> develop) and on the shop's held-out set."""
    results: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        work = Path(tmp)
        smp = smp2017_files(data_dir, work, limit=6 if smoke else None)
        datasets: dict[str, tuple[Path, Path, str, str]] = {}
        if smp is None:
            results["smp2017"] = {"skipped": f"{data_dir / 'smp2017'} is missing; nothing measured"}
        else:
            where = os.path.relpath(data_dir / "smp2017", ROOT)
            datasets["smp2017"] = (*smp, "develop", f"{where}/train.tsv -> develop.tsv")
        if not smoke:
            datasets["shop"] = (SHOP_TRAIN, SHOP_TEST, "held_out", "data/nlu -> tests/nlu/test_nlu.yml")
        for name, (train, test, split, description) in datasets.items():
            entry = results.setdefault(name, {"dataset": description, split: {}})
            if name in PUBLISHED:
                entry["published"] = PUBLISHED[name]
            for system in systems:
                print(f"  {name}: {system} ...", flush=True)
                folder = work / name
                folder.mkdir(exist_ok=True)
                outcome = evaluate(system, train, test, folder)
                entry[split][system] = outcome["figures"]
                raw[f"{name}/{system}"] = outcome["predictions"]
    results["_predictions"] = raw  # used by the OOS section and the plots, dropped before writing
    return results


def report(results: dict[str, Any]) -> str:
    lines = []
    for name, entry in results.items():
        if name.startswith("_") or name == "machine" or not isinstance(entry, dict):
            continue
        if "skipped" in entry:
            lines.append(f"{name}: skipped, {entry['skipped']}")
            continue
        split = next(k for k in entry if k not in {"dataset", "published"})
        lines.append(f"{name} ({entry['dataset']}), {split}:")
        lines.append("  system         accuracy  macro-F1  train s  peak MB")
        for system, figures in entry[split].items():
            lines.append(
                f"  {system:<14} {figures['accuracy']:>8.3f} {figures['macro_f1']:>9.3f} "
                f"{figures['train_seconds']:>8} {figures['train_peak_rss_mb']:>8}"
            )
        if "published" in entry:
            lines.append(f"  published: {entry['published']}")
    return "\n".join(lines)
