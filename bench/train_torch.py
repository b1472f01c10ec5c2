"""PyTorch side of `npm run bench -- train`: the same MLP and U-Net block stack, timed on request.

Protocol (stdin/stdout, one line each): first "ready <torch version>"; then "<model> <steps>" → runs that many AdamW
training steps and prints a JSON object of medians over them in ms: step, forward (model + loss), backward, optimizer
(zero_grad + gradient-norm clipping + AdamW step). 2 threads.
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, cond_dim):
        super().__init__()
        self.conv0 = nn.Conv1d(cin, cout, 5, padding=2)
        self.norm0 = nn.GroupNorm(8, cout)
        self.film = nn.Linear(cond_dim, 2 * cout)
        self.conv1 = nn.Conv1d(cout, cout, 5, padding=2)
        self.norm1 = nn.GroupNorm(8, cout)
        self.res = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()
        self.cout = cout

    def forward(self, x, cond):
        h = F.mish(self.norm0(self.conv0(x)))
        e = self.film(F.mish(cond))
        h = h * e[:, : self.cout, None] + e[:, self.cout :, None]
        h = F.mish(self.norm1(self.conv1(h)))
        return h + self.res(x)


class Unet(nn.Module):
    def __init__(self, da, c, cond_dim):
        super().__init__()
        self.b0 = ResBlock(da, c, cond_dim)
        self.b1 = ResBlock(c, c, cond_dim)
        self.down = nn.Conv1d(c, c, 3, stride=2, padding=1)
        self.b2 = ResBlock(c, c, cond_dim)
        self.up = nn.ConvTranspose1d(c, c, 4, stride=2, padding=1)
        self.b3 = ResBlock(c, c, cond_dim)
        self.out = nn.Conv1d(c, da, 1)

    def forward(self, x, cond):
        h = self.b1(self.b0(x, cond), cond)
        h = self.up(self.b2(self.down(h), cond))
        return self.out(self.b3(h, cond))


def make(kind, cfg):
    if kind == "mlp":
        dims = cfg["mlp_dims"]
        layers = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                layers.append(nn.GELU())
        model = nn.Sequential(*layers)
        b = cfg["mlp_batch"]
        inputs = (torch.randn(b, dims[0]),)
        target = torch.randn(b, dims[-1])
    else:
        b, t, da, c, cd = cfg["unet_batch"], cfg["unet_t"], cfg["unet_da"], cfg["unet_c"], cfg["unet_cond"]
        model = Unet(da, c, cd)
        inputs = (torch.randn(b, da, t), torch.randn(b, cd))
        target = torch.randn(b, da, t)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-6)
    return model, inputs, target, opt


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def main():
    import json

    cfg = json.loads(sys.argv[1])
    models = {k: make(k, cfg) for k in ("mlp", "unet")}
    print("ready", torch.__version__, flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        kind, steps = parts[0], int(parts[1])
        model, inputs, target, opt = models[kind]
        phases = {"step": [], "forward": [], "backward": [], "optimizer": []}
        for _ in range(steps):
            t0 = time.perf_counter()
            loss = F.mse_loss(model(*inputs), target)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            t3 = time.perf_counter()
            for key, dt in (("step", t3 - t0), ("forward", t1 - t0), ("backward", t2 - t1), ("optimizer", t3 - t2)):
                phases[key].append(dt * 1e3)
        print(json.dumps({k: median(v) for k, v in phases.items()}), flush=True)


if __name__ == "__main__":
    main()
