"""Loss, gradients and optimizer steps of the reference UNet, for test/engine/parity.test.ts.

stdin: JSON {architecture, entries: [{name, shape, offset, size}], buffers: [...], shape, dir, optimizer?}
optimizer: {name (a torch.optim class), kwargs, steps}, by default one step of Adam(lr=1e-3).
dir holds params.f32, buffers.f32, input.f32, target.f32, mask.f32; writes the first step's loss (loss.json) and
gradient (grads.f64), and after the last step params_out.f64, buffers_out.f64 and each optimizer state vector
(<state name>.f64, e.g. exp_avg.f64).
"""
import json, sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "torch"))
import numpy as np
import torch
from careamics_unet import UNet

spec = json.load(sys.stdin)
d = spec["dir"]
a = spec["architecture"]
read = lambda name: np.fromfile(os.path.join(d, name), dtype=np.float32)
torch.manual_seed(0)
model = UNet(a).double()
params, buffers = read("params.f32"), read("buffers.f32")
state = {}
for e in spec["entries"]:
    state[e["name"]] = torch.from_numpy(params[e["offset"]:e["offset"] + e["size"]].astype(np.float64).reshape(e["shape"]))
for e in spec["buffers"]:
    state[e["name"]] = torch.from_numpy(buffers[e["offset"]:e["offset"] + e["size"]].astype(np.float64).reshape(e["shape"]))
missing, unexpected = model.load_state_dict(state, strict=False)
# CAREamics creates batch-norm modules even when use_batch_norm is off; they are then unused.
missing = [m for m in missing if not m.endswith("num_batches_tracked") and (a["use_batch_norm"] or "batch_norm" not in m)]
assert not missing and not unexpected, (missing, unexpected)
model.train()
shape = spec["shape"]
tshape = [shape[0], a["num_classes"], *shape[2:]]
x = torch.from_numpy(read("input.f32").astype(np.float64).reshape(shape))
t = torch.from_numpy(read("target.f32").astype(np.float64).reshape(tshape))
m = torch.from_numpy(read("mask.f32").astype(np.float64).reshape(tshape))
optimizer = spec.get("optimizer", {"name": "Adam", "kwargs": {"lr": 1e-3}, "steps": 1})
opt = getattr(torch.optim, optimizer["name"])(model.parameters(), **optimizer["kwargs"])
named = dict(model.named_parameters())
flat = lambda tensors: np.concatenate([tensors(named[e["name"]]).detach().numpy().reshape(-1) for e in spec["entries"]])
for step in range(optimizer["steps"]):
    opt.zero_grad()
    y = model(x)
    loss = torch.sum(m * (y - t) ** 2) / torch.sum(m)
    loss.backward()
    if step == 0:
        first_loss, grads = loss.item(), flat(lambda p: p.grad)
    opt.step()
after = flat(lambda p: p)
for state in opt.state[named[spec["entries"][0]["name"]]]:
    if state != "step":
        flat(lambda p: opt.state[p][state]).astype(np.float64).tofile(os.path.join(d, state + ".f64"))
sd = model.state_dict()
running = np.concatenate([sd[e["name"]].numpy().reshape(-1) for e in spec["buffers"]]) if spec["buffers"] else np.zeros(0)
grads.astype(np.float64).tofile(os.path.join(d, "grads.f64"))
after.astype(np.float64).tofile(os.path.join(d, "params_out.f64"))
running.astype(np.float64).tofile(os.path.join(d, "buffers_out.f64"))
used = sum(p.numel() for n, p in model.named_parameters() if a["use_batch_norm"] or "batch_norm" not in n)
json.dump({"loss": first_loss, "parameters": used}, open(os.path.join(d, "loss.json"), "w"))
