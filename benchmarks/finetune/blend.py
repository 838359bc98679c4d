"""Offline blends on the 80/20 holdout of TRAIN (no develop data): the fine-tuned probabilities
saved by ``train select`` (var/finetune/runs/holdout_<config>.npy) averaged with the linear models
(runs/holdout_linear.npz), and seed ensembles of configs run with several seeds.

    python -m benchmarks.finetune.blend [TOP]      # print the TOP (40) best blends
"""

from __future__ import annotations

import argparse

import numpy as np

from .train import RUNS, load_split, scores


def blends(finetuned: dict[str, np.ndarray], tfidf: np.ndarray, recipe: np.ndarray) -> dict[str, np.ndarray]:
    """Every blend considered, by name: probabilities [N, C]."""
    out = {}
    for k, p in finetuned.items():
        out[k] = p
        for a in (0.3, 0.5, 0.7):
            out[f"{k}*{a:.1f} + tfidf"] = a * p + (1 - a) * tfidf
        out[f"{k} + tfidf + recipe (1/3 each)"] = (p + tfidf + recipe) / 3
    for k in finetuned:  # seed ensembles: configs that have @sN twins
        if "@s" in k:
            continue
        twins = [finetuned[j] for j in finetuned if j == k or j.startswith(k + "@s")]
        if len(twins) > 1:
            p = np.mean(twins, 0)
            out[f"{k} x{len(twins)} seeds"] = p
            out[f"{k} x{len(twins)} seeds *0.5 + tfidf"] = 0.5 * p + 0.5 * tfidf
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("top", nargs="?", type=int, default=40)
    args = parser.parse_args(argv)
    linear = np.load(RUNS / "holdout_linear.npz")
    y = linear["y"]
    _, labels = load_split("train")
    classes = sorted(set(labels))
    finetuned = {
        f.name[len("holdout_") : -len(".npy")]: np.load(f) for f in sorted(RUNS.glob("holdout_*.npy"))
    }
    rows = [
        (*scores(y, p, classes), name)
        for name, p in blends(finetuned, linear["tfidf"], linear["recipe"]).items()
    ]
    for acc, f1, name in sorted(rows, reverse=True)[: args.top]:
        print(f"{acc:.4f}  {f1:.4f}  {name}")


if __name__ == "__main__":
    main()
