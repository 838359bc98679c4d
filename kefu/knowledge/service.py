"""The knowledge service: answers a customer's question from the FAQ or the shop's documents."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kefu.knowledge.cache import AnswerCache
from kefu.knowledge.embeddings import Embedder, get_embedder
from kefu.knowledge.lexical import words
from kefu.knowledge.retrieval import EmbeddingCache, Hit, HybridIndex, Search, clean_query
from kefu.knowledge.sources import FaqEntry, KnowledgeSources
from kefu.knowledge.store import IndexStore, Stamp, knowledge_units, update_index
from kefu.knowledge.topics import TopicClassifier
from kefu.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeAnswer:
    """An answer with where it came from: ``source_type`` is ``faq`` or ``document``.

    A FAQ answer may carry a ``supplement``: a document passage that matches the question about
    as well, e.g. the details behind a policy ("密码输错几次会被锁" next to the password FAQ).
    """

    text: str
    score: float
    source_type: str
    source_id: str
    source_title: str
    supplement: KnowledgeAnswer | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KnowledgeAnswer:
        supplement = data.get("supplement")
        return cls(**{**data, "supplement": cls.from_dict(supplement) if supplement else None})


class KnowledgeService:
    """Hybrid search over FAQ questions and document chunks with an answer threshold.

    The FAQ topic is the one with the highest retrieval score plus ``CLASSIFIER_WEIGHT`` times the
    topic classifier's probability (:mod:`kefu.knowledge.topics`); the threshold applies to the
    chosen topic's retrieval score, the scale it was set on. Below ``threshold`` it returns no
    answer, so the assistant says it is not sure instead of guessing. ``doc_threshold`` applies to
    document chunks, whose texts are longer and score lower.
    """

    # Chosen with the classifier's settings by 5-fold cross-validation over the FAQ's alternative
    # questions (benchmarks/knowledge.py, "topic_selection"): 0 is retrieval alone.
    CLASSIFIER_WEIGHT = 2.0

    # A document passage is added to a FAQ answer when it scores at least SUPPLEMENT_MIN and either
    # comes within SUPPLEMENT_MARGIN of the FAQ's score or matches a word of the question that the
    # FAQ entry never mentions (the question asks for a detail beyond the FAQ). Chosen on
    # benchmarks/doc_questions_selection.yml against how often FAQ-intent training examples get a
    # passage (benchmarks/faq.py, "documents").
    SUPPLEMENT_MIN = 0.30
    SUPPLEMENT_MARGIN = 0.15
    SUPPLEMENT_ON_NEW_WORDS = True

    # Part of the answer cache's keys beside the knowledge version: bumped when the answering rules
    # change, so that an upgraded assistant does not serve answers cached under the old ones.
    ANSWER_RULES = "2"

    def __init__(
        self,
        sources: KnowledgeSources,
        embedder: Embedder | None,
        threshold: float = Settings.kb_answer_threshold,
        doc_threshold: float = Settings.kb_answer_threshold,
        cache_path: Path | None = None,
        vectors: np.ndarray | None = None,
        version: str = "",
        answer_cache: AnswerCache | None = None,
    ) -> None:
        """``vectors``: the units' vectors from the persisted index (else they are embedded here,
        through the embedding cache at ``cache_path``); ``version``: the knowledge version, part of
        the ``answer_cache`` keys."""
        self.sources = sources
        self.threshold = threshold
        self.doc_threshold = doc_threshold
        self.version = version
        self.answer_cache = answer_cache
        self._faq = {entry.topic: entry for entry in sources.faq}
        # What each FAQ entry already says, for adds_detail.
        self._known = {e.topic: "\n".join([e.answer, *e.questions]) for e in sources.faq}
        units, self._chunks = knowledge_units(sources)
        cache = EmbeddingCache(cache_path, embedder) if embedder is not None and vectors is None else None
        self.index = HybridIndex(units, embedder, cache, vectors=vectors)
        if cache is not None:
            cache.save(self.index.embedded_texts())
        self.classifier = topic_classifier(self.index)

    def best_faq(self, question: str) -> tuple[FaqEntry, float] | None:
        """The FAQ topic the question most likely asks about, with its retrieval score, whatever it is."""
        found = self.index.search(question)
        hit = self._faq_hit(found) if found is not None else None
        return None if hit is None else (self._faq[hit.unit.key], hit.score)

    def _faq_hit(self, found: Search) -> Hit | None:
        """The chosen topic's best-matching question."""
        ranked = rank_topics(found, self.classifier, self.CLASSIFIER_WEIGHT)
        return ranked[0][1] if ranked else None

    def answer(self, question: str, min_score: float | None = None) -> KnowledgeAnswer | None:
        """The best answer above the thresholds, FAQ first, else a document passage, else None.

        ``min_score`` raises both thresholds for questions the NLU was unsure about. Answers are
        served from the answer cache when it has them.
        """
        if self.answer_cache is None:
            return self._answer(question, min_score)
        key = self.cache_key(question, min_score)
        cached = self.answer_cache.get(key)
        if cached is not None:
            data = json.loads(cached)
            return None if data is None else KnowledgeAnswer.from_dict(data)
        answer = self._answer(question, min_score)
        self.answer_cache.put(key, json.dumps(None if answer is None else asdict(answer), ensure_ascii=False))
        return answer

    def cache_key(self, question: str, min_score: float | None) -> str:
        """The answer cache's key of a question (the knowledge version and the rules are in it)."""
        assert self.answer_cache is not None
        return self.answer_cache.key(f"{self.version}.r{self.ANSWER_RULES}", question, min_score)

    def _answer(self, question: str, min_score: float | None) -> KnowledgeAnswer | None:
        found = self.index.search(question)
        if found is None:
            return None
        best_faq, best_doc = self._faq_hit(found), found.best("doc")
        passage = None
        if best_doc is not None:
            chunk = self._chunks[best_doc.unit.key]
            passage = KnowledgeAnswer(chunk.text, best_doc.score, "document", chunk.key, chunk.title)
        if best_faq is not None and best_faq.score >= max(self.threshold, min_score or 0.0):
            entry = self._faq[best_faq.unit.key]
            supplement = None
            if passage is not None and self._supplements(found.cleaned, entry, best_faq, passage, min_score):
                supplement = passage
            return KnowledgeAnswer(
                entry.answer, best_faq.score, "faq", entry.topic, entry.question, supplement
            )
        if passage is not None and passage.score >= max(self.doc_threshold, min_score or 0.0):
            return passage
        return None

    def _supplements(
        self, cleaned: str, entry: FaqEntry, faq: Hit, passage: KnowledgeAnswer, min_score: float | None
    ) -> bool:
        """Whether the passage goes with the FAQ answer (see SUPPLEMENT_MIN)."""
        if passage.score < max(self.SUPPLEMENT_MIN, min_score or 0.0):
            return False
        if passage.score >= faq.score - self.SUPPLEMENT_MARGIN:
            return True
        return self.SUPPLEMENT_ON_NEW_WORDS and self.adds_detail(cleaned, entry, passage.text)

    def adds_detail(self, cleaned: str, entry: FaqEntry, passage: str) -> bool:
        """Whether ``passage`` has a word of the (cleaned) question, of two characters or more, that
        the FAQ entry's questions and answer never mention."""
        known = self._known[entry.topic]
        return any(len(w) >= 2 and w in passage and w not in known for w in words(cleaned))


def rank_topics(found: Search, classifier: TopicClassifier | None, weight: float) -> list[tuple[float, Hit]]:
    """The FAQ topics by retrieval score plus ``weight`` times the classifier's probability, best
    first, each with its best-matching question."""
    hits = found.best_per_key("faq")
    if classifier is None or weight == 0:
        return [(hit.score, hit) for hit in hits.values()]
    probabilities = dict(zip(classifier.topics, classifier.probabilities(found.cleaned, found.vector)))
    ranked = [(hit.score + weight * probabilities.get(topic, 0.0), hit) for topic, hit in hits.items()]
    return sorted(ranked, key=lambda pair: -pair[0])


def topic_classifier(index: HybridIndex, **settings: float) -> TopicClassifier | None:
    """The topic classifier over the index's FAQ questions, or None with fewer than two topics."""
    rows = index.rows("faq")
    topics = [index.units[i].key for i in rows]
    if len(set(topics)) < 2:
        return None
    texts = [clean_query(index.units[i].text) or index.units[i].text for i in rows]
    return TopicClassifier(texts, topics, index.vectors("faq"), **settings)


class KnowledgeProvider:
    """The process's knowledge service, loaded from the persisted index in ``index_dir`` and
    reloaded when an update replaced the index (one ``stat`` of its manifest per question), so
    that `python -m kefu.knowledge.cli update` reaches a running assistant without a restart.

    When there is no index yet (or it was built with another embedder), it is built here from
    ``knowledge_dir``, without touching the SQL FAQ table, and a warning says to run the update.
    """

    def __init__(
        self,
        knowledge_dir: Path,
        index_dir: Path,
        embedder_name: str,
        threshold: float,
        answer_cache: AnswerCache | None = None,
    ) -> None:
        self._dir = knowledge_dir
        self._store = IndexStore(index_dir)
        self._embedder_name = embedder_name
        self._threshold = threshold
        self._answer_cache = answer_cache
        self._service: KnowledgeService | None = None
        self._stamp: Stamp | None = None
        self._lock = threading.Lock()

    def get(self) -> KnowledgeService:
        stamp = self._store.stamp()
        service = self._service
        if service is not None and stamp == self._stamp:
            return service
        with self._lock:
            stamp = self._store.stamp()
            if self._service is None or stamp != self._stamp:
                self._service = self._load()
                self._stamp = self._store.stamp()
            return self._service

    def _load(self) -> KnowledgeService:
        embedder = get_embedder(self._embedder_name)
        manifest = self._store.manifest()
        if manifest is None or manifest.get("embedder") != embedder.name:
            log.warning(
                "no knowledge index for embedder %s in %s: building it from %s "
                "(run `python -m kefu.knowledge.cli update` to import into the database as well)",
                embedder.name,
                self._store.dir,
                self._dir,
            )
            update_index(self._dir, self._store.dir, embedder)
        snapshot = self._store.load()
        if self._service is not None and snapshot.version == self._service.version:
            return self._service  # the manifest was rewritten with the same content
        log.info("knowledge version %s loaded from %s", snapshot.version, self._store.dir)
        return KnowledgeService(
            snapshot.sources,
            embedder,
            threshold=self._threshold,
            vectors=snapshot.vectors,
            version=snapshot.version,
            answer_cache=self._answer_cache,
        )


_provider: KnowledgeProvider | None = None
_provider_lock = threading.Lock()


def answer_cache_from_settings() -> AnswerCache | None:
    """The Redis answer cache when ``REDIS_URL`` is set, else None (no cache); its keys start with
    ``REDIS_KEY_PREFIX``, like every other key of this deployment."""
    from kefu.settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        return None
    from kefu.knowledge.cache import RedisAnswerStore

    return AnswerCache(
        RedisAnswerStore(settings.redis_url),
        ttl=settings.kb_cache_ttl,
        prefix=f"{settings.redis_key_prefix}:kb:answer:",
    )


def get_knowledge_service() -> KnowledgeService:
    """The process-wide knowledge service, configured from the settings."""
    global _provider
    with _provider_lock:
        if _provider is None:
            from kefu.settings import get_settings

            settings = get_settings()
            _provider = KnowledgeProvider(
                settings.knowledge_dir,
                settings.index_dir,
                settings.kb_embedder,
                settings.kb_answer_threshold,
                answer_cache=answer_cache_from_settings(),
            )
    return _provider.get()
