"""PyTorch side of the interleaved benchmarks: one JSON command per stdin line, one JSON reply per line.

  {"cmd": "train", "architecture": {...}, "shape": [B, C, H, W], "steps": n}  -> {"ms": [...], "loss": x}
  {"cmd": "predict", "architecture": {...}, "shape": [...], "runs": n}         -> {"ms": [...]}
Run with glibc's malloc thresholds raised (see bench/lib.ts): PyTorch CPU is ~1.7× faster that way.
"""
import json, os, sys, time
sys.path.insert(0, os.path.dirname(__file__))
import torch
from careamics_unet import UNet

torch.set_num_threads(int(os.environ.get("THREADS", os.cpu_count())))
torch.manual_seed(0)
cache = {}


def setup(msg, kind):
    key = (kind, json.dumps(msg["architecture"], sort_keys=True), tuple(msg["shape"]))
    if key not in cache:
        a = msg["architecture"]
        model = UNet(a)
        shape = msg["shape"]
        tshape = [shape[0], a["num_classes"], *shape[2:]]
        x, t = torch.randn(*shape), torch.randn(*tshape)
        m = (torch.rand(*tshape) < 0.002).float()
        m.view(-1)[0] = 1
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        cache[key] = (model, x, t, m, opt)
    return cache[key]


def train(msg):
    model, x, t, m, opt = setup(msg, "train")
    model.train()
    ms, loss = [], None
    for _ in range(msg["steps"]):
        t0 = time.perf_counter()
        opt.zero_grad()
        y = model(x)
        loss = torch.sum(m * (y - t) ** 2) / torch.sum(m)
        loss.backward()
        opt.step()
        ms.append((time.perf_counter() - t0) * 1000)
    return {"ms": ms, "loss": loss.item()}


def predict(msg):
    model, x, _, _, _ = setup(msg, "predict")
    model.eval()
    ms = []
    with torch.no_grad():
        for _ in range(msg["runs"]):
            t0 = time.perf_counter()
            model(x)
            ms.append((time.perf_counter() - t0) * 1000)
    return {"ms": ms}


print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
for line in sys.stdin:
    msg = json.loads(line)
    if msg["cmd"] == "quit":
        break
    try:
        print(json.dumps(train(msg) if msg["cmd"] == "train" else predict(msg)), flush=True)
    except Exception as e:  # reported to the driver, which prints it and carries on without PyTorch
        print(json.dumps({"error": repr(e)}), flush=True)
