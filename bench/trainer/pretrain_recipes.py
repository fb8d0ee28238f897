#!/usr/bin/python3
"""Built-in CNN pretraining recipes in Debian's PyTorch, scored as hpt scores a frozen extractor.

hpt's built-in CNN (bench_trainer.Cnn, width 16; CNN_VARIANT below), Adam 2e-3 on a cosine
schedule, batch 128, on Fashion-MNIST's train split; then the test images' L2-normalised
features scored on 40,000 random test pairs (pair ROC AUC, by squared distance) and recall@1.
Recipes:
  ce          softmax classifier (hpt's recipe before builtin-cnn-v3)
  cos         normalised-softmax classifier (cosine logits, scale 16)
  cosm[M]     CosFace: cosine logits minus margin M (default 0.2) on the true class (hpt's now)
  RECIPE-aug  the same with random 2-px crops and horizontal flips
Each run scores the features as they are, summed with the mirrored image's (+flipsum), and
averaged over 1-pixel shifts (+shiftmean); with ENSEMBLE_WITH, concatenated with saved ones.
Usage: [CNN_VARIANT=v4|v3|avgmax|deep] [SEED=0] [SAVE_FEATURES=f.pt] [ENSEMBLE_WITH=f.pt,...]
       bench/trainer/pretrain_recipes.py RECIPE [THREADS] [EPOCHS] [WIDTH]
Prints: RESULT <recipe> ep=<epochs> w=<width> auc=<pair AUC> recall1=<recall@1> time=<s>
"""
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_trainer import Cnn  # noqa: E402 (hpt's built-in CNN, as the throughput bench has it)

recipe = sys.argv[1]
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
width = int(sys.argv[4]) if len(sys.argv) > 4 else 16
ROOT = "/usr/share/datasets/fashion-mnist/"


def idx(name):
    path = ROOT + name if os.path.exists(ROOT + name) else ROOT + name + ".gz"
    data = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * data[3]).reshape(dims)


xtr = torch.tensor(idx("train-images-idx3-ubyte")).float().div(255).unsqueeze(1)
ytr = torch.tensor(idx("train-labels-idx1-ubyte")).long()
xte = torch.tensor(idx("t10k-images-idx3-ubyte")).float().div(255).unsqueeze(1)
yte = torch.tensor(idx("t10k-labels-idx1-ubyte")).long()
mean, std = xtr.mean().item(), xtr.std().item()
xtr, xte = (xtr - mean) / std, (xte - mean) / std
seed = int(os.environ.get("SEED", "0"))
torch.manual_seed(seed)


base = recipe.split("-")[0]
cosine = base.startswith("cos")
margin = float(base[4:] or 0.2) if base.startswith("cosm") else 0.0
augment = recipe.endswith("-aug")


# CNN_VARIANT: v4 (hpt's built-in CNN now, the default), v3 (before it: one convolution a
# stage, average pooling), avgmax (v3 with average and max pooling), deep (v3 with a second
# convolution in the last two stages).
variant = os.environ.get("CNN_VARIANT", "v4")
net = Cnn(width, *{"v4": (2, True), "v3": (0, False), "avgmax": (0, True),
                   "deep": (2, False)}[variant])
with torch.no_grad():
    feature_dim = net(xtr[:2]).shape[1]
classifier = nn.Linear(feature_dim, 10, bias=not cosine)
optimizer = torch.optim.Adam(list(net.parameters()) + list(classifier.parameters()), 2e-3)
batch, n = 128, len(ytr)
total, step = epochs * ((n + batch - 1) // batch), 0
gen = torch.Generator().manual_seed(seed + 1)


def crop_flip(x):
    padded = F.pad(x, (2, 2, 2, 2), value=-mean / std)
    dx = torch.randint(0, 5, (x.size(0),), generator=gen)
    dy = torch.randint(0, 5, (x.size(0),), generator=gen)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(x.size(0))])
    flip = torch.rand(x.size(0), generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


t0 = time.time()
for epoch in range(epochs):
    net.train()
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, batch):
        b = perm[i:i + batch]
        x, y = (crop_flip(xtr[b]) if augment else xtr[b]), ytr[b]
        f = net(x)
        if cosine:
            cos = F.linear(F.normalize(f), F.normalize(classifier.weight))
            logits = 16.0 * (cos - margin * F.one_hot(y, 10))
        else:
            logits = classifier(f)
        loss = F.cross_entropy(logits, y)
        for group in optimizer.param_groups:
            group["lr"] = 2e-3 * 0.5 * (1 + math.cos(math.pi * step / total))
        step += 1
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"{recipe} epoch {epoch + 1} loss {loss.item():.3f} {time.time() - t0:.0f}s",
          file=sys.stderr, flush=True)

net.eval()
rng = np.random.default_rng(0)
a, b = rng.integers(0, len(yte), 40000), rng.integers(0, len(yte), 40000)
a, b = a[a != b], b[a != b]
labels = yte.numpy()
same = labels[a] == labels[b]


def score(name, features):
    """Prints the pair ROC AUC (Mann-Whitney, ties count half) and recall@1 of L2-normalised features."""
    features = F.normalize(features)
    value = -(features[a] - features[b]).pow(2).sum(1).numpy()
    order = np.argsort(value, kind="mergesort")
    ranks = np.empty(len(value))
    sorted_values = value[order]
    i = 0
    while i < len(value):
        j = i
        while j + 1 < len(value) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = same.sum()
    auc = (ranks[same].sum() - pos * (pos + 1) / 2) / (pos * (len(same) - pos))
    dist = torch.cdist(features, features)
    dist.fill_diagonal_(float("inf"))
    recall1 = (yte[dist.argmin(1)] == yte).float().mean().item()
    print(f"RESULT {name} ep={epochs} w={width} auc={auc:.4f} recall1={recall1:.4f} "
          f"time={time.time() - t0:.0f}s", flush=True)


with torch.no_grad():
    plain = torch.cat([net(xte[i:i + 1000]) for i in range(0, len(yte), 1000)])
    flipped = torch.cat([net(xte[i:i + 1000].flip(3)) for i in range(0, len(yte), 1000)])
recipe += "-" + variant
score(recipe, plain)
# The same network made flip-invariant: features of the image and its mirror, summed.
score(recipe + "+flipsum", plain + flipped)
# Test-time shifts: the mean of the L2-normalised features of the image and its four 1-pixel
# shifts (rolled: the images' borders are background).
with torch.no_grad():
    shifted = [F.normalize(plain)]
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        moved = torch.roll(xte, shifts=(dy, dx), dims=(2, 3))
        shifted.append(F.normalize(torch.cat([net(moved[i:i + 1000])
                                              for i in range(0, len(yte), 1000)])))
score(recipe + "+shiftmean", torch.stack(shifted).mean(0))
# Ensembles: SAVE_FEATURES=f.pt keeps these test features; ENSEMBLE_WITH=f.pt[,g.pt] scores
# them concatenated (each L2-normalised) with this run's.
if os.environ.get("SAVE_FEATURES"):
    torch.save(plain, os.environ["SAVE_FEATURES"])
others = [torch.load(p) for p in os.environ.get("ENSEMBLE_WITH", "").split(",") if p]
if others:
    score(f"{recipe}+ensemble{len(others) + 1}",
          torch.cat([F.normalize(f) for f in [plain] + others], 1))
