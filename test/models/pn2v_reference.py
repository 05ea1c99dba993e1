"""PN2V reference in PyTorch, written from the papers (raw intensity units throughout).

Krull et al. 2020, Probabilistic Noise2Void: p(y) = 1/K sum_k p(y | s_k), loss -log p(y) at masked pixels,
MMSE = sum_k s_k p(y | s_k) / sum_k p(y | s_k).
Laine et al. 2019, High-quality self-supervised deep image denoising: Gaussian prior N(mu, sp^2) and
Gaussian noise N(0, sn^2): p(y) = N(y; mu, sp^2 + sn^2), posterior mean (y sp^2 + mu sn^2) / (sp^2 + sn^2).

Reads JSON on stdin, writes JSON on stdout: loss, gradient of the loss w.r.t. the network output, MMSE and prior
mean (both back in normalized units).
"""

import json
import math
import sys

import torch

case = json.load(sys.stdin)
shape = case["shape"]  # B, C, H, W of the observation
B, C = shape[0], shape[1]
K = case["k"]
pred = torch.tensor(case["prediction"], dtype=torch.float64).reshape(B, C * K, *shape[2:])
pred.requires_grad_(True)
y = torch.tensor(case["observation"], dtype=torch.float64).reshape(shape)
mask = torch.tensor(case["mask"], dtype=torch.float64).reshape(shape)
scale = torch.tensor(case["scale"], dtype=torch.float64).reshape(1, C, 1, 1)
offset = torch.tensor(case["offset"], dtype=torch.float64).reshape(1, C, 1, 1)
sigma = case["sigma"]

y_raw = y * scale + offset
per_channel = pred.reshape(B, C, K, *shape[2:])


def gaussian_log_pdf(x, mean, var):
    return -0.5 * torch.log(2 * math.pi * torch.as_tensor(var, dtype=torch.float64)) - (x - mean) ** 2 / (2 * var)


if case["prior"] == "samples":
    s_raw = per_channel * scale.unsqueeze(2) + offset.unsqueeze(2)
    ll = gaussian_log_pdf(y_raw.unsqueeze(2), s_raw, sigma**2)
    log_p = torch.logsumexp(ll, dim=2) - math.log(K)
    w = torch.softmax(ll, dim=2)
    mmse_raw = (w * s_raw).sum(2)
    prior_raw = s_raw.mean(2)
else:
    mu_raw = per_channel[:, :, 0] * scale + offset
    var_prior_raw = torch.exp(per_channel[:, :, 1]) * scale**2
    log_p = gaussian_log_pdf(y_raw, mu_raw, var_prior_raw + sigma**2)
    mmse_raw = (y_raw * var_prior_raw + mu_raw * sigma**2) / (var_prior_raw + sigma**2)
    prior_raw = mu_raw

loss = -(log_p * mask).sum() / mask.sum()
loss.backward()
json.dump(
    {
        "loss": loss.item(),
        "grad": pred.grad.flatten().tolist(),
        "mmse": ((mmse_raw - offset) / scale).detach().flatten().tolist(),
        "prior": ((prior_raw - offset) / scale).detach().flatten().tolist(),
    },
    sys.stdout,
)
