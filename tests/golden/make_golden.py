"""Reference losses and parameter gradients from PyTorch for tests/nn/golden.test.ts.

Regenerate (needs Debian's python3-torch; CI does not):  /usr/bin/python3 tests/golden/make_golden.py
Writes tests/golden/golden.json. Every parameter and input is a deterministic formula both sides build:
det(n, seed, scale)[i] = float32(sin(0.7 i + 1.3 seed) * scale), in duet's layout (channels-last activations,
Linear weight [in, out], Conv1d weight [k*cin, cout]); this script converts to PyTorch's layouts and the
gradients back.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)


def det(shape, seed, scale):
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    return (torch.sin(0.7 * i + 1.3 * seed) * scale).to(torch.float32).reshape(shape)


class Params:
    """Parameters in duet layout, created in duet's creation order (seed = index)."""

    def __init__(self):
        self.names, self.values = [], {}

    def add(self, name, shape, scale=0.3):
        t = det(shape, len(self.names), scale).requires_grad_(True)
        self.names.append(name)
        self.values[name] = t
        return t


def mish(x):
    return x * torch.tanh(F.softplus(x))


def linear(p, name, x, fin, fout):
    w = p.add(f"{name}.weight", [fin, fout])
    b = p.add(f"{name}.bias", [fout])
    return x @ w + b


def conv1d(p, name, x, cin, cout, k):
    """x: B,T,C (duet layout) → B,T,Cout via torch's conv1d (weight converted to [cout, cin, k])."""
    w = p.add(f"{name}.weight", [k * cin, cout])
    b = p.add(f"{name}.bias", [cout])
    wt = w.reshape(k, cin, cout).permute(2, 1, 0)
    y = F.conv1d(x.permute(0, 2, 1), wt, b, padding=k // 2)
    return y.permute(0, 2, 1)


def group_norm(p, name, x, groups, c):
    w = p.add(f"{name}.weight", [c])
    b = p.add(f"{name}.bias", [c])
    return F.group_norm(x.permute(0, 2, 1), groups, w, b, 1e-5).permute(0, 2, 1)


def layer_norm(p, name, x, c):
    w = p.add(f"{name}.weight", [c])
    b = p.add(f"{name}.bias", [c])
    return F.layer_norm(x, [c], w, b, 1e-5)


def attention(p, name, x, ctx, dim, heads, causal):
    q = linear(p, f"{name}.q", x, dim, dim)
    k = linear(p, f"{name}.k", ctx, ctx.shape[-1], dim)
    v = linear(p, f"{name}.v", ctx, ctx.shape[-1], dim)
    b, t, s, dh = x.shape[0], x.shape[1], ctx.shape[1], dim // heads
    q = q.reshape(b, t, heads, dh).transpose(1, 2)
    k = k.reshape(b, s, heads, dh).transpose(1, 2)
    v = v.reshape(b, s, heads, dh).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
    if causal:
        scores = scores.masked_fill(torch.triu(torch.ones(t, s, dtype=torch.bool), 1), float("-inf"))
    y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, dim)
    return linear(p, f"{name}.out", y, dim, dim)


def mlp_model(p):
    x = det([16, 8], 101, 1.0)
    h = F.gelu(linear(p, "mlp.fc0", x, 8, 32))
    h = F.gelu(linear(p, "mlp.fc1", h, 32, 32))
    return linear(p, "mlp.fc2", h, 32, 4), det([16, 4], 102, 1.0)


def conv_block(p):
    """Diffusion Policy's ConditionalResidualBlock1D: Conv1d(k=5) → GroupNorm(8) → Mish, FiLM, again, + 1×1 residual."""
    x = det([4, 12, 16], 101, 1.0)
    cond = det([4, 24], 103, 1.0)
    h = mish(group_norm(p, "block.norm0", conv1d(p, "block.conv0", x, 16, 32, 5), 8, 32))
    embed = linear(p, "block.film.proj", mish(cond), 24, 64)
    h = h * embed[:, None, :32] + embed[:, None, 32:]
    h = mish(group_norm(p, "block.norm1", conv1d(p, "block.conv1", h, 32, 32, 5), 8, 32))
    return h + conv1d(p, "block.residual", x, 16, 32, 1), det([4, 12, 32], 102, 1.0)


def transformer_block(p):
    """Pre-norm: causal self-attention, cross-attention to context tokens, GELU MLP."""
    x = det([2, 6, 32], 101, 1.0)
    ctx = det([2, 3, 16], 104, 1.0)
    h = layer_norm(p, "tf.ln1", x, 32)
    h = x + attention(p, "tf.self", h, h, 32, 4, True)
    h = h + attention(p, "tf.cross", layer_norm(p, "tf.ln2", h, 32), ctx, 32, 4, False)
    m = layer_norm(p, "tf.ln3", h, 32)
    m = linear(p, "tf.mlp.fc1", F.gelu(linear(p, "tf.mlp.fc0", m, 32, 64)), 64, 32)
    return h + m, det([2, 6, 32], 102, 1.0)


def unet_parts(p):
    """Stride-2 Conv1d (k=3, padding 1) down, ConvTranspose1d (k=4, stride 2, padding 1) up (duet's Upsample1d)."""
    x = det([2, 8, 6], 101, 1.0)
    w = p.add("down.weight", [3 * 6, 8])
    b = p.add("down.bias", [8])
    h = F.conv1d(x.permute(0, 2, 1), w.reshape(3, 6, 8).permute(2, 1, 0), b, stride=2, padding=1)
    wu = p.add("up.weight", [4, 8, 6])
    bu = p.add("up.bias", [6])
    y = F.conv_transpose1d(h, wu.permute(1, 2, 0), bu, stride=2, padding=1).permute(0, 2, 1)
    return y, det([2, 8, 6], 102, 1.0)


def vision_parts(p):
    """Patch embedding (as torch conv2d), token + sinusoidal embeddings, mean pooling, symmetric InfoNCE (τ = 0.1)."""
    img = det([2, 4, 4, 3], 101, 1.0)
    w = p.add("patch.proj.weight", [2 * 2 * 3, 8])
    b = p.add("patch.proj.bias", [8])
    wt = w.reshape(2, 2, 3, 8).permute(3, 2, 0, 1)
    tokens = F.conv2d(img.permute(0, 3, 1, 2), wt, b, stride=2).flatten(2).transpose(1, 2)
    table = p.add("tok.weight", [5, 8])
    ids = torch.tensor([[0, 1, 2, 3], [4, 3, 2, 1]])
    t = torch.tensor([3.0, 17.0])
    half = 4
    freqs = torch.exp(torch.arange(half) * -(math.log(10000) / (half - 1)))
    arg = t[:, None] * freqs[None, :]
    sinus = torch.cat([arg.sin(), arg.cos()], -1)
    pooled = (tokens + table[ids] + sinus[:, None, :]).mean(1)
    other = det([2, 8], 105, 1.0)
    a = F.normalize(pooled, dim=-1)
    bb = F.normalize(other, dim=-1)
    logits = a @ bb.T / 0.1
    labels = torch.arange(2)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)), None


def main():
    out = {"torch": torch.__version__, "cases": {}}
    for name, build in [("mlp", mlp_model), ("conv_block", conv_block), ("transformer_block", transformer_block),
                        ("unet_parts", unet_parts), ("vision_parts", vision_parts)]:
        p = Params()
        pred, target = build(p)
        loss = pred if target is None else ((pred - target) ** 2).mean()
        loss.backward()
        out["cases"][name] = {
            "loss": float(loss),
            "params": [{"name": n, "shape": list(p.values[n].shape)} for n in p.names],
            "grads": {n: [float(f"{v:.8g}") for v in p.values[n].grad.flatten().tolist()] for n in p.names},
        }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
