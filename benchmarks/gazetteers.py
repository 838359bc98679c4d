"""Do offline lexical-knowledge features help SMP2017 intents? 5-fold CV on TRAIN only.

python -m benchmarks.gazetteers --topics PATH/topic_word_weight.json   # about 3 minutes on 2 cores

The remaining SMP2017 errors are entity knowledge (song, stock, app and TV names), so this tries
the two word-level knowledge sources that install offline, beside the recipe's best frozen
candidate (character 1-3-gram TF-IDF + e5 x3, linear SVM C=0.5):

- jionlp's LDA topic model: 96,365 words (stock names, singers, dishes, places...) each with a
  distribution over 100 topics learnt from a large news corpus. The file comes with the package
  (``pip download --no-deps jionlp==1.5.31``, then unzip ``jionlp/dictionary/topic_word_weight.zip``);
  jionlp is not a dependency of the project. Features: the mean topic distribution of the
  message's Jieba words, or of every substring found in the topic vocabulary (so that a name Jieba
  splits is still found), L2-normalised and weighted; or the bag of each found word's dominant topic.
- Jieba's part-of-speech tags (its dictionary tags person, place and organisation names and other
  proper nouns): a TF-IDF bag of the message's tag 1-2-grams.

No candidate beat the baseline under cross-validation, so nothing here is scored on develop.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import sparse

from benchmarks.recipe import features, read_tsv, vectors

Topics = dict[str, dict[str, float]]
SUBSTRING_MAX = 8


def found_words(text: str, topics: Topics, substrings: bool) -> list[str]:
    """The words of ``text`` in the topic vocabulary: its Jieba words, or every substring of 2 to
    ``SUBSTRING_MAX`` characters."""
    from kefu.text import normalize_text

    text = normalize_text(text)
    if not substrings:
        import jieba

        return [w for w in jieba.lcut(text) if w in topics]
    return [
        text[i:j]
        for i in range(len(text))
        for j in range(i + 2, min(len(text), i + SUBSTRING_MAX) + 1)
        if text[i:j] in topics
    ]


def topic_vector(text: str, topics: Topics, substrings: bool, size: int = 100) -> np.ndarray:
    """The summed topic distributions of the found words, L2-normalised (zeros if none)."""
    vector = np.zeros(size)
    for word in found_words(text, topics, substrings):
        for topic, weight in topics[word].items():
            vector[int(topic)] += weight
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


def dominant_topics(text: str, topics: Topics, share: float = 0.6) -> str:
    """The found words' dominant topics (where one topic holds ``share`` of the word) as tokens."""
    tokens = []
    for word in found_words(text, topics, substrings=True):
        topic, weight = max(topics[word].items(), key=lambda kv: kv[1])
        if weight > share:
            tokens.append(f"T{topic}")
    return " ".join(tokens) or "none"


def pos_tags(text: str) -> str:
    import jieba.posseg

    from kefu.text import normalize_text

    return " ".join(pair.flag for pair in jieba.posseg.lcut(normalize_text(text)))


Extra = Callable[[list[str], list[str]], tuple[sparse.csr_matrix, sparse.csr_matrix]]


def dense_extra(fn: Callable[[str], np.ndarray], weight: float) -> Extra:
    def make(train: list[str], test: list[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        return (
            sparse.csr_matrix(np.array([fn(t) for t in train]) * weight),
            sparse.csr_matrix(np.array([fn(t) for t in test]) * weight),
        )

    return make


def bag_extra(fn: Callable[[str], str], weight: float, ngrams: int = 1) -> Extra:
    def make(train: list[str], test: list[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        bag = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, ngrams), sublinear_tf=True)
        return bag.fit_transform([fn(t) for t in train]) * weight, bag.transform(
            [fn(t) for t in test]
        ) * weight

    return make


def candidates(topics: Topics) -> dict[str, Extra | None]:
    found: dict[str, Extra | None] = {"baseline: char + e5(query) x3, linear SVM C=0.5": None}
    for substrings, name in ((False, "Jieba words"), (True, "substrings")):
        for weight in (0.3, 1.0, 2.0):
            found[f"+ LDA topics of {name} x{weight:g}"] = dense_extra(
                lambda t, s=substrings: topic_vector(t, topics, s), weight
            )
    for weight in (0.3, 0.6):
        found[f"+ dominant-topic bag x{weight:g}"] = bag_extra(lambda t: dominant_topics(t, topics), weight)
    for weight in (0.5, 1.0):
        found[f"+ Jieba POS-tag 1-2-grams x{weight:g}"] = bag_extra(pos_tags, weight, ngrams=2)
    return found


def cross_validate(
    texts: list[str], labels: np.ndarray, extra: Extra | None, folds: int = 5
) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    view = vectors(texts, "query")
    predicted = np.empty(len(texts), dtype=object)
    for a, b in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, labels):
        train, test = [texts[i] for i in a], [texts[i] for i in b]
        left, right = features(train, test, [view[a]], [view[b]], (3.0,))
        if extra is not None:
            more_left, more_right = extra(train, test)
            left, right = sparse.hstack([left, more_left]).tocsr(), sparse.hstack([right, more_right]).tocsr()
        predicted[b] = LinearSVC(C=0.5).fit(left, labels[a]).predict(right)
    return accuracy_score(labels, predicted), f1_score(labels, predicted, average="macro")


def main(argv: list[str] | None = None) -> int:
    from kefu.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=Path, required=True, help="jionlp's topic_word_weight.json")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.topics.is_file():
        print(f"{args.topics} is missing: see this module's docstring for where it comes from")
        return 2
    folder = (args.data_dir or get_settings().benchmarks_dir) / "smp2017"
    texts, labels = read_tsv(folder / "train.tsv")
    topics: Topics = json.loads(args.topics.read_text(encoding="utf-8"))
    print(
        f"5-fold CV on SMP2017 train ({len(texts)} examples), {len(topics)} topic words: accuracy, macro-F1"
    )
    for name, extra in candidates(topics).items():
        accuracy, f1 = cross_validate(texts, labels, extra)
        print(f"  {accuracy:.4f}  {f1:.4f}  {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
