"""The same model and loss in Python PyTorch (TFA's TripletSemiHardLoss ported literally:
tiled B*B x B mask, as the Python port of the report does).
Usage: THREADS BATCH STEPS [DEVICE] [EXTRACTOR.pt SIZE]."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def pairwise_distance(e):
    sq = (e * e).sum(1, keepdim=True)
    d2 = (sq + sq.t() - 2 * e @ e.t()).clamp_min(0)
    err = (d2 <= 0).to(e.dtype)
    d = (d2 + err * 1e-16).sqrt() * (1 - err)
    return d * (1 - torch.eye(e.shape[0], dtype=e.dtype, device=e.device))


def masked_min(data, mask):
    mx = data.max(1, keepdim=True)[0]
    return ((data - mx) * mask).min(1, keepdim=True)[0] + mx


def masked_max(data, mask):
    mn = data.min(1, keepdim=True)[0]
    return ((data - mn) * mask).max(1, keepdim=True)[0] + mn


def tfa_semihard(e, labels, margin):
    b = e.shape[0]
    pd = pairwise_distance(e)
    adj = labels.view(-1, 1) == labels.view(1, -1)
    adj_not = ~adj
    pd_tile = pd.repeat(b, 1)
    mask = adj_not.repeat(b, 1) & (pd_tile > pd.t().reshape(-1, 1))
    mask_final = (mask.float().sum(1, keepdim=True) > 0).view(b, b).t()
    outside = masked_min(pd_tile, mask.float()).view(b, b).t()
    inside = masked_max(pd, adj_not.float()).repeat(1, b)
    semi = torch.where(mask_final, outside, inside)
    loss_mat = margin + pd - semi
    mask_pos = adj.float() - torch.eye(b, device=e.device)
    return (loss_mat * mask_pos).clamp_min(0).sum() / mask_pos.sum()


class Cnn(nn.Module):
    """hpt's BuiltinCnn (trainer/src/model.cpp): four conv3x3-BN-ReLU stages (width, 2w, 4w, 8w
    channels; the last double_conv_stages with a second convolution), max-pool between, then
    global average pooling followed by global max pooling (avg_max) or the average alone.
    The defaults are builtin-cnn-v4's; (0, False) is builtin-cnn-v3."""

    def __init__(self, w=16, double_conv_stages=2, avg_max=True):
        super().__init__()
        layers, c = [], 1
        for s in range(4):
            o = w << s
            for _ in range(2 if s >= 4 - double_conv_stages else 1):
                layers += [nn.Conv2d(c, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
                c = o
            if s < 3:
                layers.append(nn.MaxPool2d(2))
        self.body, self.avg_max = nn.Sequential(*layers), avg_max

    def forward(self, x):
        x = self.body(x)
        average = x.mean((2, 3))
        return torch.cat([average, x.amax((2, 3))], 1) if self.avg_max else average


def run(end_to_end, batch, steps, device, model, size):
    torch.manual_seed(0)
    cnn = torch.jit.load(model, map_location=device) if model else Cnn().to(device)
    channels = 3 if model else 1
    images = torch.randn(batch, channels, size, size, device=device)
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        images = images.contiguous(memory_format=torch.channels_last)
        cnn = cnn.to(memory_format=torch.channels_last)
    with torch.no_grad():
        dim = cnn(images[:2]).flatten(1).shape[1]
    head = nn.Linear(dim, 64).to(device)
    params = list(head.parameters()) + (list(cnn.parameters()) if end_to_end else [])
    opt = torch.optim.Adam(params, lr=1e-3)
    feats = torch.randn(batch, dim, device=device)
    labels = torch.arange(batch, device=device) % 10

    def step():
        x = cnn(images).flatten(1) if end_to_end else feats
        loss = tfa_semihard(F.normalize(head(x), dim=1), labels, 0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    for _ in range(3):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return batch * steps / (time.perf_counter() - t0)


def pair_eval(device):
    """Pairs/s of one validation scoring as a PyTorch user writes it: the pairs' distances
    with F.pairwise_distance, then sklearn's roc_auc_score (200,000 pairs, 5,000 x 64)."""
    from sklearn.metrics import roc_auc_score
    torch.manual_seed(0)
    labels = torch.arange(5000) % 10
    e = F.normalize(torch.randn(5000, 64)).to(device)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randint(0, 5000, (2, 200000), generator=g)
    same = (labels[a] == labels[b]).numpy()
    t0 = time.perf_counter()
    for _ in range(5):
        d = F.pairwise_distance(e[a.to(device)], e[b.to(device)]).double().cpu().numpy()
        roc_auc_score(same, -d)
    return 5 * 200000 / (time.perf_counter() - t0)


if __name__ == "__main__":
    args = sys.argv[1:] + ["2", "160", "50", "cpu", "", "28"][len(sys.argv) - 1:]
    threads, batch, steps = (int(a) for a in args[:3])
    device, model, size = args[3], (args[4] if args[4] != "builtin" else ""), int(args[5])
    torch.set_num_threads(threads)
    print(f"end_to_end {run(True, batch, steps, device, model, size):.1f}")
    print(f"head_only {run(False, batch, steps * 10, device, model, size):.1f}")
    print(f"val_pairs_scored {pair_eval(device):.1f}")
