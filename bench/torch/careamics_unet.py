"""A PyTorch copy of CAREamics' UNet (careamics/models/unet/) with the same module and parameter names.

Reference only: used by the parity test and the step benchmark, never by careamics-js itself.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv_Block(nn.Module):
    def __init__(self, dims, cin, cout, multiplier=1, groups=1, batch_norm=True):
        super().__init__()
        Conv = getattr(nn, f"Conv{dims}d")
        BN = getattr(nn, f"BatchNorm{dims}d")
        mid = cout * multiplier
        self.use_batch_norm = batch_norm
        self.conv1 = Conv(cin, mid, 3, padding=1, groups=groups)
        self.conv2 = Conv(mid, cout, 3, padding=1, groups=groups)
        self.batch_norm1 = BN(mid)
        self.batch_norm2 = BN(cout)

    def forward(self, x):
        if self.use_batch_norm:
            x = F.relu(self.batch_norm1(self.conv1(x)))
            return F.relu(self.batch_norm2(self.conv2(x)))
        return F.relu(self.conv2(F.relu(self.conv1(x))))


class MaxBlurPool(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims
        k = torch.tensor([1.0, 2.0, 1.0])
        kernel = k[:, None] * k[None, :] if dims == 2 else k[:, None, None] * k[None, :, None] * k[None, None, :]
        self.register_buffer("kernel", kernel / kernel.sum(), persistent=False)

    def forward(self, x):
        c = x.size(1)
        pool = F.max_pool2d if self.dims == 2 else F.max_pool3d
        conv = F.conv2d if self.dims == 2 else F.conv3d
        x = pool(x, kernel_size=2, stride=1)
        w = self.kernel.to(x.dtype).repeat((c, 1) + (1,) * self.dims)
        return conv(x, w, padding=1, stride=2, groups=c)


def interleave(a, b, groups):
    m, n = a.shape[1] // groups, b.shape[1] // groups
    parts = []
    for i in range(groups):
        parts += [a[:, i * m:(i + 1) * m], b[:, i * n:(i + 1) * n]]
    return torch.cat(parts, dim=1)


class Encoder(nn.Module):
    def __init__(self, a, groups):
        super().__init__()
        dims, depth, init = a["conv_dims"], a["depth"], a["num_channels_init"]
        pool = MaxBlurPool(dims) if a["n2v2"] else getattr(nn, f"MaxPool{dims}d")(2)
        blocks = []
        for n in range(depth):
            cout = init * 2 ** n * groups
            cin = a["in_channels"] if n == 0 else cout // 2
            blocks += [Conv_Block(dims, cin, cout, groups=groups, batch_norm=a["use_batch_norm"]), pool]
        self.encoder_blocks = nn.ModuleList(blocks)


class Decoder(nn.Module):
    def __init__(self, a, groups):
        super().__init__()
        dims, depth, init = a["conv_dims"], a["depth"], a["num_channels_init"]
        c = init * groups * 2 ** (depth - 1)
        self.bottleneck = Conv_Block(dims, c, c, multiplier=2, groups=groups, batch_norm=a["use_batch_norm"])
        up = nn.Upsample(scale_factor=2, mode="bilinear" if dims == 2 else "trilinear")
        blocks = []
        for n in range(depth):
            cin = init * 2 ** (depth - n - 1) * groups
            cout = cin // 2 if n != depth - 1 else cin
            if not (a["n2v2"] and n == depth - 1):
                cin *= 2
            blocks += [up, Conv_Block(dims, cin, cout, multiplier=2 if n != depth - 1 else 1, groups=groups,
                                      batch_norm=a["use_batch_norm"])]
        self.decoder_blocks = nn.ModuleList(blocks)


class UNet(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = a
        self.groups = a["in_channels"] if a["independent_channels"] else 1
        self.encoder = Encoder(a, self.groups)
        self.decoder = Decoder(a, self.groups)
        Conv = getattr(nn, f"Conv{a['conv_dims']}d")
        self.final_conv = Conv(a["num_channels_init"] * self.groups, a["num_classes"], 1, groups=self.groups)

    def forward(self, x):
        inp = x
        skips = []
        for m in self.encoder.encoder_blocks:
            x = m(x)
            if isinstance(m, Conv_Block):
                skips.append(x)
        x = self.decoder.bottleneck(x)
        depth = self.a["depth"]
        for i, m in enumerate(self.decoder.decoder_blocks):
            x = m(x)
            if isinstance(m, nn.Upsample):
                level = i // 2
                if not (self.a["n2v2"] and level == depth - 1):
                    x = interleave(x, skips[depth - 1 - level], self.groups)
        x = self.final_conv(x)
        if self.a["residual"]:
            x = x + inp
        act = self.a["final_activation"]
        return torch.sigmoid(x) if act == "Sigmoid" else F.relu(x) if act == "ReLU" else x
