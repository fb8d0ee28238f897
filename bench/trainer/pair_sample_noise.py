#!/usr/bin/python3
"""How much a pair ROC AUC depends on which pairs were drawn (the choice of eval_pairs).

Reads the test embeddings an `hpt train` run exports for the projector (RUN/vectors.tsv and
RUN/metadata.tsv), scores every pair of them (the exact AUC of the split), then draws 50
balanced samples of each size as make_pairs does (half same-class, half different-class
pairs, distinct images) and prints each size's mean, standard deviation and range.
Usage: bench/trainer/pair_sample_noise.py RUN_DIR [SIZE ... | exact]
(default sizes 10000 100000 200000; `exact`: the all-pairs AUC only)
"""
import sys

import numpy as np


def auc(pos, neg):
    """P(a same-class pair is closer than a different-class pair), ties counted half."""
    d = np.concatenate([pos, neg])
    order = d.argsort(kind="mergesort")
    ranks = np.empty(len(d))
    ranks[order] = np.arange(1, len(d) + 1)
    # Average the ranks of tied distances.
    _, inverse, counts = np.unique(d, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    r_pos = ranks[: len(pos)].sum()
    return 1 - (r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def main():
    run = sys.argv[1]
    sizes = [] if sys.argv[2:] == ["exact"] else [int(s) for s in sys.argv[2:]] or [10000, 100000, 200000]
    x = np.loadtxt(f"{run}/vectors.tsv", delimiter="\t")
    y = np.loadtxt(f"{run}/metadata.tsv", delimiter="\t", skiprows=1, usecols=0).astype(int)
    n = len(y)
    gram = x @ x.T
    sq = np.diag(gram)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * gram, 0))
    upper = np.triu_indices(n, 1)
    same = (y[:, None] == y[None, :])[upper]
    all_d = dist[upper]
    print(f"all {len(all_d)} pairs of {n} images: ROC AUC {auc(all_d[same], all_d[~same]):.5f}")
    if not sizes:
        return
    print("| pairs | mean | sd | min | max |")
    print("|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    by_class = np.argsort(y, kind="stable")  # Image indices grouped by class.
    start = np.searchsorted(y[by_class], y)  # Where each image's class begins there,
    count = np.bincount(y)[y]  # and how many images it has.
    for k in sizes:
        values = []
        for _ in range(50):
            half = k // 2
            # Same-class pairs: an image, then another of its class (redrawn while the same).
            a = rng.integers(0, n, size=half)
            a = a[count[a] > 1]
            b = a.copy()
            while (redraw := b == a).any():
                b[redraw] = by_class[start[a[redraw]] + rng.integers(0, count[a[redraw]])]
            pos = dist[a, b]
            # Different-class pairs: uniform over the pairs of images of two classes.
            na, nb = rng.integers(0, n, size=(2, 4 * (k - half)))
            keep = y[na] != y[nb]
            neg = dist[na[keep][: k - half], nb[keep][: k - half]]
            values.append(auc(pos, neg))
        print(f"| {k} | {np.mean(values):.5f} | {np.std(values):.5f} | {min(values):.5f} | "
              f"{max(values):.5f} |")

if __name__ == "__main__":
    main()
