"""FAQ editing for the admin API: the one module coupled to :mod:`kefu.knowledge`.

The shop's FAQ lives in ``KB_DIR/faq.yml`` (content, under version control). An edit rewrites that
file atomically after checking the new content with the knowledge package's own loader
(:func:`kefu.knowledge.sources.load_faq`), then runs the knowledge package's incremental update
(:func:`kefu.knowledge.cli.update`: the SQL ``faq`` table and the index, embedding only what changed),
which a running assistant picks up on its next question.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from kefu.knowledge.sources import FaqEntry, KnowledgeSourceError, load_faq

TOPIC_CHARS = 64
# A new topic's id: it names the topic in URLs and in faq.yml.
NEW_TOPIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_TEXT_CHARS = 4000
MAX_LIST = 100


class KnowledgeEditError(ValueError):
    """An edit the FAQ refuses; ``status`` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _reindex() -> None:
    from kefu.knowledge.cli import update

    update(progress=False)


def entry_json(entry: FaqEntry) -> dict[str, Any]:
    return {
        "id": entry.topic,
        "question": entry.question,
        "answer": entry.answer,
        "tags": list(entry.tags),
        "alternatives": list(entry.alternatives),
    }


def parse_entry(payload: Any, topic: str | None = None) -> FaqEntry:
    """A FAQ entry from a JSON body ``{"id", "question", "answer", "tags"?, "alternatives"?}``."""
    if not isinstance(payload, Mapping):
        raise KnowledgeEditError("请求体必须是 JSON 对象。 The body must be a JSON object.")
    if topic is None:  # a new topic: its id must be usable in a URL
        topic = payload.get("id")
        if not isinstance(topic, str) or not NEW_TOPIC.match(topic):
            raise KnowledgeEditError(
                f"id 须为 1-{TOPIC_CHARS} 个字母、数字或 _ . - 。 "
                f"id: 1-{TOPIC_CHARS} letters, digits, _ . or -, starting with a letter or digit."
            )
    if not isinstance(topic, str) or not topic.strip() or len(topic) > TOPIC_CHARS:
        raise KnowledgeEditError(
            f"id 须为不超过 {TOPIC_CHARS} 个字符的字符串。 id: a string of 1-{TOPIC_CHARS} characters."
        )
    texts = {}
    for key in ("question", "answer"):
        value = payload.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT_CHARS:
            raise KnowledgeEditError(
                f"{key} 须为非空字符串。 {key}: a non-empty string of at most {MAX_TEXT_CHARS}."
            )
        texts[key] = value.strip()
    lists = {}
    for key in ("tags", "alternatives"):
        value = payload.get(key) or []
        ok = isinstance(value, list) and len(value) <= MAX_LIST
        if not ok or not all(isinstance(v, str) and v.strip() and len(v) <= MAX_TEXT_CHARS for v in value):
            raise KnowledgeEditError(f"{key} 须为字符串列表。 {key}: a list of at most {MAX_LIST} strings.")
        lists[key] = tuple(v.strip() for v in value)
    if any("," in tag for tag in lists["tags"]):
        raise KnowledgeEditError("标签不能含逗号。 A tag can't contain a comma.")
    return FaqEntry(topic.strip(), texts["question"], texts["answer"], lists["tags"], lists["alternatives"])


class FaqEditor:
    """Create, read, update and delete FAQ topics in ``knowledge_dir/faq.yml``."""

    def __init__(self, knowledge_dir: Path, reindex: Callable[[], None] | None = _reindex) -> None:
        self.path = Path(knowledge_dir) / "faq.yml"
        self._reindex = reindex
        self._lock = threading.Lock()

    def all(self) -> list[FaqEntry]:
        return list(load_faq(self.path))

    def get(self, topic: str) -> FaqEntry | None:
        return next((e for e in self.all() if e.topic == topic), None)

    def create(self, entry: FaqEntry) -> FaqEntry:
        with self._lock:
            entries = self.all()
            if any(e.topic == entry.topic for e in entries):
                raise KnowledgeEditError("该 FAQ 已存在。 A FAQ topic with this id exists.", 409)
            self._write([*entries, entry])
        return entry

    def update(self, entry: FaqEntry) -> FaqEntry:
        with self._lock:
            entries = self.all()
            if not any(e.topic == entry.topic for e in entries):
                raise KnowledgeEditError("FAQ 不存在。 No such FAQ topic.", 404)
            self._write([entry if e.topic == entry.topic else e for e in entries])
        return entry

    def delete(self, topic: str) -> None:
        with self._lock:
            entries = self.all()
            kept = [e for e in entries if e.topic != topic]
            if len(kept) == len(entries):
                raise KnowledgeEditError("FAQ 不存在。 No such FAQ topic.", 404)
            if not kept:
                raise KnowledgeEditError("不能删除最后一条 FAQ。 The last FAQ topic can't be deleted.", 409)
            self._write(kept)

    def _write(self, entries: list[FaqEntry]) -> None:
        items = []
        for e in entries:
            item: dict[str, Any] = {"id": e.topic, "question": e.question, "answer": e.answer}
            if e.tags:
                item["tags"] = list(e.tags)
            if e.alternatives:
                item["alternatives"] = list(e.alternatives)
            items.append(item)
        text = yaml.safe_dump({"version": 1, "faq": items}, allow_unicode=True, sort_keys=False, width=100)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".faq-", suffix=".yml")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            try:
                load_faq(Path(tmp))  # the knowledge package must accept what is written
            except KnowledgeSourceError as exc:
                raise KnowledgeEditError(str(exc)) from exc
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if self._reindex is not None:
            self._reindex()
