"""The shop's knowledge sources under ``knowledge/``: the FAQ (YAML) and Markdown documents."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class KnowledgeSourceError(ValueError):
    """A knowledge file is malformed; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ topic: its canonical question, answer, tags and other ways customers ask it."""

    topic: str
    question: str
    answer: str
    tags: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()

    @property
    def questions(self) -> tuple[str, ...]:
        return (self.question, *self.alternatives)

    @property
    def content_hash(self) -> str:
        payload = "\x1f".join([self.topic, self.question, self.answer, *self.tags, *self.alternatives])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    """A free-form Markdown document of the shop."""

    name: str
    title: str
    text: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KnowledgeSources:
    faq: tuple[FaqEntry, ...]
    documents: tuple[Document, ...] = field(default_factory=tuple)


def load_faq(path: Path) -> tuple[FaqEntry, ...]:
    """Reads ``faq.yml``; raises :class:`KnowledgeSourceError` naming what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeSourceError(f"{path}: not valid YAML ({exc})") from exc
    items = raw.get("faq") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise KnowledgeSourceError(f"{path}: expected a top-level `faq:` list of topics")
    entries: list[FaqEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"{path}: faq entry {index + 1}"
        if not isinstance(item, dict):
            raise KnowledgeSourceError(f"{where}: expected a mapping with id, question and answer")
        topic = str(item.get("id") or "").strip()
        question = str(item.get("question") or "").strip()
        answer = str(item.get("answer") or "").strip()
        if not topic or not question or not answer:
            raise KnowledgeSourceError(f"{where}: `id`, `question` and `answer` are all required")
        if topic in seen:
            raise KnowledgeSourceError(f"{where}: duplicate id {topic!r}; topic ids must be unique")
        seen.add(topic)
        entries.append(
            FaqEntry(
                topic=topic,
                question=question,
                answer=answer,
                tags=tuple(str(t) for t in item.get("tags") or ()),
                alternatives=tuple(str(a).strip() for a in item.get("alternatives") or () if str(a).strip()),
            )
        )
    return tuple(entries)


_TITLE = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)


def load_documents(folder: Path) -> tuple[Document, ...]:
    """Reads every ``*.md`` under ``folder`` (sorted by name); the first ``# `` line is the title."""
    documents = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
        text = path.read_text(encoding="utf-8").strip()
        match = _TITLE.search(text)
        documents.append(Document(name=path.name, title=match.group(1) if match else path.stem, text=text))
    return tuple(documents)


def load_sources(knowledge_dir: Path) -> KnowledgeSources:
    """The FAQ (``faq.yml``) and documents (``docs/*.md``) under a knowledge folder."""
    faq_path = knowledge_dir / "faq.yml"
    if not faq_path.is_file():
        raise KnowledgeSourceError(f"{faq_path} is missing; set KB_DIR to the folder holding faq.yml")
    return KnowledgeSources(faq=load_faq(faq_path), documents=load_documents(knowledge_dir / "docs"))
