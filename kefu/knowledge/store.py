"""The persisted knowledge index under ``KB_INDEX_DIR`` and its incremental update.

Layout of the index folder:

- ``manifest.json``: the knowledge version (a hash of every source's content hash, the embedder and
  the index format), the embedder, the content hash of each FAQ topic and document, and counts.
  It is replaced last and atomically by an update: a running assistant stats it on every question
  and reloads when it changed.
- ``snapshot-<version>.json`` and ``vectors-<version>.npy``: the FAQ topics and documents the index
  was built from and the vectors of their retrievable units, in :func:`knowledge_units` order.
  Immutable once written; the two newest generations are kept so that a reader that has just read
  the previous manifest still finds its files.
- ``embeddings-<embedder>.npz``: vectors by text hash (:class:`EmbeddingCache`), so that an update
  embeds only the texts that changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from kefu.knowledge.chunking import Chunk, chunk_document
from kefu.knowledge.embeddings import Embedder
from kefu.knowledge.retrieval import EmbeddingCache, Unit
from kefu.knowledge.sources import Document, FaqEntry, KnowledgeSources, load_sources

# Bump when chunking, the units or the file layout change: it changes every version.
FORMAT = 2
MANIFEST = "manifest.json"
EMBED_BATCH = 32

Stamp = tuple[int, int, int]


class IndexUnavailableError(RuntimeError):
    """The persisted index is missing, unreadable or built with another embedder."""


def knowledge_units(sources: KnowledgeSources) -> tuple[list[Unit], dict[str, Chunk]]:
    """The retrievable units of the sources (every FAQ question and alternative, then every document
    chunk with its title and section) and the chunks by key."""
    chunks = {c.key: c for doc in sources.documents for c in chunk_document(doc)}
    units = [Unit("faq", e.topic, q) for e in sources.faq for q in e.questions]
    units += [Unit("doc", key, f"{c.title} {c.section}\n{c.text}") for key, c in chunks.items()]
    return units, chunks


def source_hashes(sources: KnowledgeSources) -> dict[str, str]:
    """``faq/<topic>`` and ``doc/<file name>`` to their content hashes."""
    hashes = {f"faq/{e.topic}": e.content_hash for e in sources.faq}
    hashes.update({f"doc/{d.name}": d.content_hash for d in sources.documents})
    return hashes


def knowledge_version(sources: KnowledgeSources, embedder_name: str) -> str:
    """A short hash that changes whenever anything an answer depends on changes."""
    digest = hashlib.sha256(f"{FORMAT}\x1f{embedder_name}".encode())
    for key, content_hash in sorted(source_hashes(sources).items()):
        digest.update(f"\x1e{key}\x1f{content_hash}".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Snapshot:
    version: str
    embedder: str
    sources: KnowledgeSources
    vectors: np.ndarray


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    tmp.replace(path)


class IndexStore:
    """Reads and writes the index folder (see the module's docstring)."""

    def __init__(self, index_dir: Path) -> None:
        self.dir = index_dir
        self.manifest_path = index_dir / MANIFEST

    def stamp(self) -> Stamp | None:
        """What identifies the current manifest file, from one ``stat``: cheap enough per question."""
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IndexUnavailableError(
                f"{self.manifest_path} is unreadable ({exc}); run the update again"
            ) from exc

    def _files(self, version: str) -> tuple[Path, Path]:
        return self.dir / f"snapshot-{version}.json", self.dir / f"vectors-{version}.npy"

    def has(self, version: str) -> bool:
        return all(path.is_file() for path in self._files(version))

    def load(self) -> Snapshot:
        """The snapshot the manifest points to."""
        manifest = self.manifest()
        if manifest is None:
            raise IndexUnavailableError(
                f"no knowledge index in {self.dir}; run `python -m kefu.knowledge.cli update`"
            )
        version = manifest["version"]
        snapshot_path, vectors_path = self._files(version)
        try:
            raw = json.loads(snapshot_path.read_text(encoding="utf-8"))
            vectors = np.load(vectors_path)
        except (OSError, ValueError) as exc:
            raise IndexUnavailableError(
                f"index version {version} in {self.dir} is incomplete ({exc})"
            ) from exc
        sources = KnowledgeSources(
            faq=tuple(
                FaqEntry(e["topic"], e["question"], e["answer"], tuple(e["tags"]), tuple(e["alternatives"]))
                for e in raw["faq"]
            ),
            documents=tuple(Document(d["name"], d["title"], d["text"]) for d in raw["documents"]),
        )
        return Snapshot(version, manifest["embedder"], sources, vectors)

    def write(
        self, version: str, embedder: Embedder, sources: KnowledgeSources, vectors: np.ndarray, units: int
    ) -> None:
        """Writes a new generation, then the manifest that points to it; forgets older generations."""
        self.dir.mkdir(parents=True, exist_ok=True)
        snapshot_path, vectors_path = self._files(version)
        snapshot = {
            "faq": [
                {
                    "topic": e.topic,
                    "question": e.question,
                    "answer": e.answer,
                    "tags": list(e.tags),
                    "alternatives": list(e.alternatives),
                }
                for e in sources.faq
            ],
            "documents": [{"name": d.name, "title": d.title, "text": d.text} for d in sources.documents],
        }
        _write_atomically(
            snapshot_path, lambda p: p.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
        )

        def save_vectors(path: Path) -> None:
            with path.open("wb") as out:
                np.save(out, vectors.astype(np.float32))

        _write_atomically(vectors_path, save_vectors)
        previous = (self.manifest() or {}).get("version")
        manifest = {
            "version": version,
            "format": FORMAT,
            "embedder": embedder.name,
            "dim": embedder.dim,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "counts": {"faq": len(sources.faq), "documents": len(sources.documents), "units": units},
            "sources": source_hashes(sources),
        }
        _write_atomically(
            self.manifest_path,
            lambda p: p.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"),
        )
        keep = {version, previous}
        for path in [*self.dir.glob("snapshot-*.json"), *self.dir.glob("vectors-*.npy")]:
            if path.stem.split("-", 1)[1] not in keep:
                path.unlink(missing_ok=True)


@dataclass
class UpdateReport:
    """What an update did; the ``faq``/``documents`` counts are by content hash."""

    version: str
    previous_version: str | None
    faq: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    sql: dict[str, int] | None = None
    units: int = 0
    embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.version != self.previous_version

    def describe(self) -> str:
        def counts(c: dict[str, int]) -> str:
            return ", ".join(f"{v} {k}" for k, v in c.items() if v) or "none"

        lines = [
            f"knowledge version {self.version}"
            + (" (content unchanged)" if not self.changed else f" (was {self.previous_version or 'none'})"),
            f"  FAQ topics: {counts(self.faq)}; documents: {counts(self.documents)}",
            f"  index: {self.units} passages, {self.embedded} newly embedded",
        ]
        if self.sql is not None:
            lines.append(f"  SQL faq table: {counts(self.sql)}")
        lines.append(f"  {self.seconds:.1f}s")
        return "\n".join(lines)


def _diff(old: dict[str, str], new: dict[str, str], kind: str) -> dict[str, int]:
    old = {k: v for k, v in old.items() if k.startswith(kind)}
    new = {k: v for k, v in new.items() if k.startswith(kind)}
    return {
        "created": sum(k not in old for k in new),
        "updated": sum(k in old and old[k] != v for k, v in new.items()),
        "unchanged": sum(old.get(k) == v for k, v in new.items()),
        "deleted": sum(k not in new for k in old),
    }


def embed_units(
    units: Sequence[Unit], cache: EmbeddingCache, dim: int, progress: bool = False
) -> tuple[np.ndarray, int]:
    """Vectors of the units (FAQ questions as queries, chunks as passages), embedding only what
    ``cache`` lacks, in batches with a progress bar when ``progress`` and on a terminal."""
    from tqdm import tqdm

    vectors = np.zeros((len(units), dim), dtype=np.float32)
    computed = 0
    with tqdm(total=len(units), desc="embedding", unit="text", disable=not progress or None) as bar:
        for as_queries in (True, False):
            rows = [i for i, u in enumerate(units) if (u.kind == "faq") == as_queries]
            for start in range(0, len(rows), EMBED_BATCH):
                batch = rows[start : start + EMBED_BATCH]
                batch_vectors, batch_computed = cache.embed([units[i].text for i in batch], as_queries)
                vectors[batch] = batch_vectors
                computed += batch_computed
                bar.update(len(batch))
    return vectors, computed


def update_index(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    sync_faq: Callable[[Sequence[FaqEntry]], dict[str, int]] | None = None,
    rebuild: bool = False,
    progress: bool = False,
) -> UpdateReport:
    """Brings the SQL FAQ table (through ``sync_faq``) and the index in line with the sources.

    Only texts whose content changed are embedded; removed topics and documents leave both the table
    and the index. When nothing changed the index files are left alone (a second run is quick).
    ``rebuild`` forgets every stored vector first and re-embeds everything.
    """
    started = time.perf_counter()
    sources = load_sources(knowledge_dir)
    store = IndexStore(index_dir)
    old = store.manifest() or {}
    version = knowledge_version(sources, embedder.name)
    hashes = source_hashes(sources)
    report = UpdateReport(version, old.get("version"))
    old_hashes = old.get("sources", {}) if old.get("embedder") == embedder.name and not rebuild else {}
    report.faq = _diff(old_hashes, hashes, "faq/")
    report.documents = _diff(old_hashes, hashes, "doc/")
    if sync_faq is not None:
        report.sql = sync_faq(sources.faq)
    units, _ = knowledge_units(sources)
    report.units = len(units)
    if rebuild or old.get("version") != version or not store.has(version):
        cache_path = index_dir / f"embeddings-{embedder.name.replace('/', '_')}.npz"
        if rebuild:
            cache_path.unlink(missing_ok=True)
        cache = EmbeddingCache(cache_path, embedder)
        vectors, report.embedded = embed_units(units, cache, embedder.dim, progress)
        cache.save([(u.text, u.kind == "faq") for u in units])
        store.write(version, embedder, sources, vectors, len(units))
    report.seconds = time.perf_counter() - started
    return report
