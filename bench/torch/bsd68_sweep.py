"""Schedule sweep for the BSD68 benchmark, run in PyTorch on a GPU (the device tool) to choose what careamics-js
trains with in its 60-minute CPU budget. Reference only: never a runtime dependency, and its PSNRs are not the
benchmark's result (that is `npm run bench:bsd68`, measured with careamics-js itself).

It mirrors bench/bsd68.ts: Train400 + seeded σ = 25 float noise (396 train, 4 validation), random 64×64 patches
with the 8 flips/rotations, CAREamics' N2V manipulation (stratified grid of side (100/p)^(1/2), uniform
replacement from the ROI with non-zero offsets on both axes, coordinates clipped to the patch), masked MSE, the
CAREamics UNet (careamics_unet.py), Adam; PSNR (peak 255) of whole BSD68 images, mean over 68, with and without
8-fold TTA. A "step budget" stands for the number of steps careamics-js makes in the CPU budget.

    python3 bsd68_sweep.py DATA_DIR RUN_JSON...    # each RUN_JSON one config; prints one JSON line per run
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from careamics_unet import UNet  # noqa: E402

SIGMA = 25.0
DEV = "cuda" if torch.cuda.is_available() else "cpu"


def load(folder):
    files = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    return [np.asarray(Image.open(os.path.join(folder, f)).convert("L"), dtype=np.float32) for f in files]


def augment_grids(p):
    """Source (y, x) of each output pixel for the 8 rotations/flips of a p×p patch."""
    y, x = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    grids = []
    for flip in (False, True):
        for k in range(4):
            yy, xx = (y, p - 1 - x) if flip else (y, x)
            for _ in range(k):
                yy, xx = xx, p - 1 - yy
            grids.append(torch.stack([yy, xx]))
    return torch.stack(grids)  # [8, 2, p, p]


def sample_patches(train, batch, p, grids, gen):
    n, h, w = train.shape
    dev = train.device
    img = torch.randint(0, n, (batch,), device=dev, generator=gen)
    oy = torch.randint(0, h - p + 1, (batch,), device=dev, generator=gen)
    ox = torch.randint(0, w - p + 1, (batch,), device=dev, generator=gen)
    aug = grids[torch.randint(0, 8, (batch,), device=dev, generator=gen)]  # [B, 2, p, p]
    idx = img[:, None, None] * h * w + (oy[:, None, None] + aug[:, 0]) * w + ox[:, None, None] + aug[:, 1]
    return train.reshape(-1)[idx]  # [B, p, p]


def n2v_mask(patches, percentage, roi, gen):
    """CAREamics' uniform_withCP manipulation: returns (manipulated, mask)."""
    b, p, _ = patches.shape
    dev = patches.device
    side = (100.0 / percentage) ** 0.5
    cells = math.ceil(p / side)
    g = torch.arange(cells, device=dev, dtype=torch.float32)
    gy, gx = torch.meshgrid(g, g, indexing="ij")
    uy = torch.rand((b, cells, cells), device=dev, generator=gen)
    ux = torch.rand((b, cells, cells), device=dev, generator=gen)
    cy = ((gy + uy) * side).floor().long()
    cx = ((gx + ux) * side).floor().long()
    valid = (cy < p) & (cx < p)
    half = roi // 2
    choices = torch.tensor([d for d in range(-half, half + 1) if d != 0], device=dev)
    dy = choices[torch.randint(0, len(choices), (b, cells, cells), device=dev, generator=gen)]
    dx = choices[torch.randint(0, len(choices), (b, cells, cells), device=dev, generator=gen)]
    sy = (cy + dy).clamp(0, p - 1)
    sx = (cx + dx).clamp(0, p - 1)
    bi = torch.arange(b, device=dev)[:, None, None].expand_as(cy)
    cy, cx, sy, sx, bi = cy[valid], cx[valid], sy[valid], sx[valid], bi[valid]
    out = patches.clone()
    out[bi, cy, cx] = patches[bi, sy, sx]
    mask = torch.zeros_like(patches)
    mask[bi, cy, cx] = 1.0
    return out, mask


def lr_at(run, step, total):
    lr = run["lr"]
    warm = run.get("warmup", 0)
    if warm and step < warm:
        return lr * (step + 1) / warm
    s = run["schedule"]
    t = (step - warm) / max(1, total - warm)
    if s == "cosine":
        return run.get("lr_min", 0.0) + (lr - run.get("lr_min", 0.0)) * 0.5 * (1 + math.cos(math.pi * t))
    if s == "linear":
        return lr * (1 - t)
    return lr  # constant, or plateau (handled by the epoch loop)


def predict(model, noisy, mean, std, tta):
    x = torch.from_numpy((noisy - mean) / std)[None, None].to(DEV)
    h, w = noisy.shape
    ph, pw = (-h) % 4, (-w) % 4
    x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    views = [(k, f) for f in (False, True) for k in range(4)] if tta else [(0, False)]
    acc = 0
    for k, f in views:
        v = torch.flip(x, (3,)) if f else x
        y = model(torch.rot90(v, k, (2, 3)))
        y = torch.rot90(y, -k, (2, 3))
        acc = acc + (torch.flip(y, (3,)) if f else y)
    out = (acc / len(views))[0, 0, :h, :w].double().cpu().numpy()
    return out * std + mean


def run_one(run, data):
    torch.manual_seed(run.get("seed", 25))
    gen = torch.Generator(device=DEV).manual_seed(run.get("seed", 25))
    train_noisy, val_noisy, test = data
    mean, std = float(train_noisy.mean()), float(train_noisy.std())
    train = torch.from_numpy((train_noisy - mean) / std).to(DEV)
    val = torch.from_numpy((val_noisy - mean) / std).to(DEV)
    p, batch, steps = run.get("patch", 64), run.get("batch", 16), run["steps"]
    steps_per_epoch = run.get("steps_per_epoch", 198)
    grids = augment_grids(p).to(DEV)
    model = UNet({"conv_dims": 2, "depth": run.get("depth", 2), "num_channels_init": run.get("filters", 32),
                  "in_channels": 1, "num_classes": 1, "n2v2": run.get("n2v2", False), "residual": run.get("residual", False),
                  "use_batch_norm": True, "independent_channels": True, "final_activation": "None"}).to(DEV)
    opt = torch.optim.Adam(model.parameters(), lr=run["lr"])
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=10) \
        if run["schedule"] == "plateau" else None
    # Fixed validation batch: the 4 validation images cut into 64×64 tiles, masked once.
    vgen = torch.Generator(device=DEV).manual_seed(7)
    vtiles = val.unfold(1, p, p).unfold(2, p, p).reshape(-1, p, p)
    vin, vmask = n2v_mask(vtiles, run["mask"], run["roi"], vgen)
    started = time.time()
    model.train()
    done = steps
    for step in range(steps):
        if time.time() - started > run.get("max_seconds", 1e9):
            done = step  # out of time: evaluate what there is, and say so
            break
        if step % 2000 == 0:
            print(f"{run.get('name')} step {step} {time.time() - started:.0f}s", file=sys.stderr, flush=True)
        if plateau is None:
            for g in opt.param_groups:
                g["lr"] = lr_at(run, step, steps)
        clean_in = sample_patches(train, batch, p, grids, gen)
        inp, mask = n2v_mask(clean_in, run["mask"], run["roi"], gen)
        pred = model(inp[:, None])[:, 0]
        loss = ((pred - clean_in) ** 2 * mask).sum() / mask.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if plateau is not None and (step + 1) % steps_per_epoch == 0:
            model.eval()
            with torch.no_grad():
                vpred = model(vin[:, None])[:, 0]
                vloss = float(((vpred - vtiles) ** 2 * vmask).sum() / vmask.sum())
            model.train()
            plateau.step(vloss)
    train_s = time.time() - started
    model.eval()
    res = {}
    with torch.no_grad():
        for tta in (False, True):
            total = 0.0
            for clean, noisy in test:
                out = predict(model, noisy, mean, std, tta)
                total += 10 * math.log10(255.0 ** 2 / float(np.mean((clean.astype(np.float64) - out) ** 2)))
            res["psnrTTA" if tta else "psnr"] = round(total / len(test), 3)
    return {**run, **res, "stepsDone": done, "trainSeconds": round(train_s, 1), "finalLr": opt.param_groups[0]["lr"]}


def main():
    folder = sys.argv[1]
    runs = [json.loads(a) for a in sys.argv[2:]]
    rng = np.random.default_rng(400)
    train = np.stack(load(os.path.join(folder, "Train400")))
    noisy = (train + rng.normal(0, SIGMA, train.shape)).astype(np.float32)
    trng = np.random.default_rng(68)
    test = [(c, (c + trng.normal(0, SIGMA, c.shape)).astype(np.float32)) for c in load(os.path.join(folder, "BSD68"))]
    data = (noisy[:396], noisy[396:], test)
    torch.backends.cudnn.benchmark = True
    for run in runs:
        print(json.dumps(run_one(run, data)), flush=True)


if __name__ == "__main__":
    main()
