"""Splitting Markdown documents into retrieval-sized chunks, along Chinese sentence ends."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.knowledge.sources import Document

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``section`` is its nearest heading."""

    doc: str
    title: str
    section: str
    index: int
    text: str

    @property
    def key(self) -> str:
        return f"{self.doc}#{self.index}"


def _sentences(paragraph: str, max_chars: int) -> list[str]:
    pieces = [p for p in _SENTENCE_END.split(paragraph) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        while len(piece) > max_chars:  # a run-on sentence: cut it hard
            out.append(piece[:max_chars])
            piece = piece[max_chars:]
        out.append(piece)
    return out


def chunk_document(document: Document, max_chars: int = 300) -> list[Chunk]:
    """Chunks of at most ``max_chars`` characters that never cross a heading, made of whole
    sentences where possible, each labelled with its document title and section."""
    sections: list[tuple[str, list[str]]] = [(document.title, [])]
    for line in document.text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            if len(heading.group(1)) == 1 and not sections[-1][1]:
                continue  # the document title itself
            sections.append((heading.group(2), []))
        elif line.strip():
            sections[-1][1].append(line.strip())
    chunks: list[Chunk] = []
    for section, lines in sections:
        buffer = ""
        for paragraph in lines:
            for sentence in _sentences(paragraph, max_chars):
                if buffer and len(buffer) + len(sentence) > max_chars:
                    chunks.append(Chunk(document.name, document.title, section, len(chunks), buffer))
                    buffer = ""
                buffer += sentence
            if buffer and len(buffer) > max_chars // 2:
                chunks.append(Chunk(document.name, document.title, section, len(chunks), buffer))
                buffer = ""
            elif buffer:
                buffer += "\n"
        if buffer.strip():
            chunks.append(Chunk(document.name, document.title, section, len(chunks), buffer.strip()))
    return chunks
