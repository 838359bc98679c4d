"""A knowledge edit reaches the running assistant through the update command, without a restart."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "运费怎么算"
NEW_FACT = "全场满59元包邮"


def update(assistant) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kefu.knowledge.cli", "update", "--quiet"],
        cwd=ROOT,
        env=assistant.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_an_edited_answer_is_served_after_the_update(assistant):
    faq = assistant.knowledge_dir / "faq.yml"
    original = faq.read_text(encoding="utf-8")
    old_answer = assistant.texts(QUESTION)
    assert NEW_FACT not in old_answer
    old_fact = "订单实付满99元即可包邮"
    assert original.count(old_fact) == 1, "knowledge/faq.yml changed: adapt the edit below"
    try:
        faq.write_text(original.replace(old_fact, f"{NEW_FACT}（原为{old_fact}）"), encoding="utf-8")
        assert assistant.texts(QUESTION) == old_answer  # an edit alone is not published
        report = update(assistant)
        assert "1 updated" in report and "0 newly embedded" in report  # only the answer changed
        assert NEW_FACT in assistant.texts(QUESTION)
    finally:
        faq.write_text(original, encoding="utf-8")
        update(assistant)
    assert assistant.texts(QUESTION) == old_answer
