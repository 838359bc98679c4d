"""Pre-sales questions: the assistant's answers from the catalog on a held-out question set.

Questions: ``tests/presales/questions.yml`` (written apart from the training data). Each one is
answered by the real catalog service over a fresh SQLite database loaded by the seed; the answer's
text is the domain response filled in, plus its button titles. A question is right when the text
contains each of its ``must_contain`` strings. ``made_up_share`` is the share of the questions the
catalog can't answer (unknown products and specs) that got a product fact instead of "没有这项信息".
With a trained model, ``nlu_routed`` is the share of questions the NLU sends to the product action.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "presales" / "questions.yml"
# A second held-out set, written later (2026-12-03) and measured on its own.
QUESTIONS_B = ROOT / "tests" / "presales" / "questions_b.yml"
MODEL = ROOT / "models" / "kefu.tar.gz"
UNANSWERABLE = ("unknown_product", "unknown_spec")
PRODUCT_INTENTS = ("ask_product", "recommend_product", "compare_products")


def render(answer: Any, responses: dict[str, Any]) -> str:
    """The text the customer would read: the response's first variant filled in, and the buttons."""
    template = responses[answer.response][0]
    text = template["text"].format(**answer.values)
    buttons = [b["title"] for b in [*template.get("buttons", []), *answer.buttons]]
    return text + ("\n" + " | ".join(buttons) if buttons else "")


def _route(texts: list[str]) -> list[str | None] | None:
    """The intent the trained NLU gives each text (None without a model)."""
    if not MODEL.exists():
        return None
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))

    async def parse_all() -> list[str | None]:
        return [(await agent.parse_message(text)).get("intent", {}).get("name") for text in texts]

    return asyncio.run(parse_all())


def run(questions_file: Path = QUESTIONS, with_nlu: bool = True) -> dict[str, Any]:
    from kefu.catalog.service import NO_FACT, CatalogService
    from kefu.db.engine import dispose_engine
    from kefu.db.products import ProductRepository
    from kefu.db.seed import SEED_PRODUCTS, seed

    questions = yaml.safe_load(questions_file.read_text(encoding="utf-8"))["questions"]
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    by_kind: dict[str, list[bool]] = defaultdict(list)
    made_up: list[bool] = []
    failures = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'presales.db'}"
        seed(url, products=SEED_PRODUCTS)
        service = CatalogService(ProductRepository(url))
        started = time.perf_counter()
        for item in questions:
            orders = item.get("orders")
            answer = service.answer(
                item["q"], current_sku=item.get("product"), ordered=(lambda o=orders: o) if orders else None
            )
            text = render(answer, responses)
            right = all(str(fact) in text for fact in item["must_contain"])
            by_kind[item["kind"]].append(right)
            if item["kind"] in UNANSWERABLE:
                made_up.append(answer.kind not in NO_FACT)
            if not right:
                failures.append({"q": item["q"], "kind": item["kind"], "answer": text[:200]})
        seconds = time.perf_counter() - started
        dispose_engine(url)
    total = [right for results in by_kind.values() for right in results]
    section: dict[str, Any] = {
        "dataset": str(questions_file.relative_to(ROOT)),
        "questions": len(questions),
        "accuracy": round(sum(total) / len(total), 4),
        "accuracy_by_kind": {
            kind: {"questions": len(results), "accuracy": round(sum(results) / len(results), 4)}
            for kind, results in sorted(by_kind.items())
        },
        "unanswerable_questions": len(made_up),
        "made_up_share": round(sum(made_up) / len(made_up), 4) if made_up else None,
        "ms_per_question": round(seconds * 1000 / len(questions), 2),
        "failures": failures,
    }
    if with_nlu:
        # Stand-alone questions only: a carry-over question is routed by the context in the assistant.
        alone = [item["q"] for item in questions if "product" not in item]
        intents = _route(alone)
        if intents is not None:
            section["nlu_routed"] = {
                "questions": len(alone),
                "share": round(sum(i in PRODUCT_INTENTS for i in intents) / len(alone), 4),
                "not_routed": [
                    {"q": q, "intent": i} for q, i in zip(alone, intents) if i not in PRODUCT_INTENTS
                ],
            }
    return section


def run_all() -> dict[str, Any]:
    """Both held-out sets: the first with the NLU routing figure, the second under ``second_set``."""
    section = run()
    section["second_set"] = run(QUESTIONS_B, with_nlu=False)
    return section


def report(section: dict[str, Any]) -> str:
    lines = [
        f"pre-sales: {section['questions']} questions, accuracy {section['accuracy']:.3f}, made-up answers "
        f"{section['made_up_share']:.3f} of {section['unanswerable_questions']} unanswerable",
    ]
    for kind, figures in section["accuracy_by_kind"].items():
        lines.append(f"  {kind:16} {figures['accuracy']:.3f} ({figures['questions']})")
    if "second_set" in section:
        second = section["second_set"]
        lines.append(
            f"  second set: {second['questions']} questions, accuracy {second['accuracy']:.3f}, "
            f"made-up answers {second['made_up_share']:.3f} of {second['unanswerable_questions']}"
        )
    if "nlu_routed" in section:
        routed = section["nlu_routed"]
        lines.append(
            f"  NLU routes {routed['share']:.3f} of {routed['questions']} stand-alone questions "
            "to the product action"
        )
    return "\n".join(lines)
