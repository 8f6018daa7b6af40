"""
Training throughput of creditflow's built-in policy architecture in PyTorch (CPU), for
bench/engine.ts to compare with the TensorFlow.js engine on the same machine and the same batch.

Architecture (models/transformer.ts): token embedding + learned absolute positions, pre-LayerNorm
blocks of multi-head causal self-attention (fused qkv with bias) and a GELU(tanh) MLP, final
LayerNorm, output head tied to the token embedding. Step: forward, token-mean NLL of the response
tokens, backward, global-norm clipping (1.0), AdamW (beta 0.9/0.99, no weight decay).

Two layouts of the same sequences, as in the engine:
  padded  one right-padded row per sequence, causal mask, head on every position;
  packed  first-fit-decreasing rows, restarted positions, block-diagonal causal mask, head only at
          the positions that predict a response token (models/packing.ts, models/logprobs.ts).

Usage: python bench/pytorch/train_step.py BATCH.json [--threads N] [--steps N]
BATCH.json: {"model": {vocabSize, dModel, nLayers, nHeads, dFf, maxSeqLen}, "seqs": [[...]], "starts": [...]}
Prints one JSON line: {"torch": version, "threads": n, "padded_ms": x, "packed_ms": y, "tokens": n}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h, f):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.qkv = nn.Linear(d, 3 * d)
        self.wo = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.w1 = nn.Linear(d, f)
        self.w2 = nn.Linear(f, d)

    def forward(self, x, mask):  # x (R, T, d); mask (R or 1, 1, T, T) bool, True = may attend
        R, T, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        heads = lambda t: t.view(R, T, self.h, d // self.h).transpose(1, 2)  # (R, h, T, hd)
        y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), attn_mask=mask)
        x = x + self.wo(y.transpose(1, 2).reshape(R, T, d))
        return x + self.w2(F.gelu(self.w1(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, d, L, H, Fd, P):
        super().__init__()
        self.wte = nn.Embedding(V, d)
        self.wpe = nn.Embedding(P, d)
        self.blocks = nn.ModuleList(Block(d, H, Fd) for _ in range(L))
        self.lnf = nn.LayerNorm(d, eps=1e-5)
        for p in self.parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)

    def hidden(self, tokens, positions, mask):
        x = self.wte(tokens) + self.wpe(positions)
        for b in self.blocks:
            x = b(x, mask)
        return self.lnf(x)

    def head(self, h):
        return h @ self.wte.weight.t()


def padded_batch(seqs, starts):
    B, T = len(seqs), max(len(s) for s in seqs)
    tokens = torch.zeros(B, T, dtype=torch.long)
    targets = torch.full((B, T), -100, dtype=torch.long)  # ignored by cross_entropy
    for b, (s, st) in enumerate(zip(seqs, starts)):
        tokens[b, : len(s)] = torch.tensor(s)
        targets[b, st - 1 : len(s) - 1] = torch.tensor(s[st:])
    positions = torch.arange(T).expand(B, T)
    mask = torch.ones(T, T, dtype=torch.bool).tril().view(1, 1, T, T)
    return tokens, positions, mask, targets


def packed_batch(seqs, starts):
    T = max(len(s) for s in seqs)
    order = sorted(range(len(seqs)), key=lambda b: (-len(seqs[b]), b))
    used, place = [], {}
    for b in order:  # first-fit decreasing, as models/packing.ts
        r = next((i for i, u in enumerate(used) if u + len(seqs[b]) <= T), None)
        if r is None:
            r = len(used)
            used.append(0)
        place[b] = (r, used[r])
        used[r] += len(seqs[b])
    R = len(used)
    tokens = torch.zeros(R, T, dtype=torch.long)
    positions = torch.zeros(R, T, dtype=torch.long)
    segment = torch.full((R, T), -1, dtype=torch.long)
    source, targets = [], []
    for b, (s, st) in enumerate(zip(seqs, starts)):
        r, o = place[b]
        tokens[r, o : o + len(s)] = torch.tensor(s)
        positions[r, o : o + len(s)] = torch.arange(len(s))
        segment[r, o : o + len(s)] = b
        source += [r * T + o + t - 1 for t in range(st, len(s))]
        targets += s[st:]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    mask = ((segment[:, :, None] == segment[:, None, :]) & causal).unsqueeze(1)
    return tokens, positions, mask, torch.tensor(source), torch.tensor(targets)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("batch")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--steps", type=int, default=5)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    spec = json.load(open(a.batch))
    m, seqs, starts = spec["model"], spec["seqs"], spec["starts"]
    torch.manual_seed(0)
    model = GPT(m["vocabSize"], m["dModel"], m["nLayers"], m["nHeads"], m["dFf"], m["maxSeqLen"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0)
    d = m["dModel"]

    pt, pp, pm, ptg = padded_batch(seqs, starts)
    kt, kp, km, ksrc, ktg = packed_batch(seqs, starts)

    def step_padded():
        logits = model.head(model.hidden(pt, pp, pm))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), ptg.view(-1), ignore_index=-100)

    def step_packed():
        h = model.hidden(kt, kp, km).reshape(-1, d)[ksrc]
        return F.cross_entropy(model.head(h), ktg)

    def timed(loss_fn):
        def one():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return loss.item()

        one()  # warm-up
        t0 = time.perf_counter()
        for _ in range(a.steps):
            one()
        return (time.perf_counter() - t0) / a.steps * 1000

    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "padded_ms": timed(step_padded),
        "packed_ms": timed(step_packed),
        "tokens": sum(len(s) for s in seqs),
        "rows_padded": len(seqs),
        "rows_packed": int(kt.shape[0]),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
