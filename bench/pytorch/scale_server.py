"""
The PyTorch side of the scale-curve bench (bench/scale.ts): a long-lived process that times training
steps of creditflow's built-in architecture (train_step.py's GPT, the same packed step) on request,
so that bench/scale.ts can interleave its timings with the TensorFlow.js engine's, A/B, in one run.

Protocol: one JSON request per stdin line, one JSON reply per stdout line.
  {"op": "train", "model": {...ModelConfig}, "seqs": [[...]], "starts": [...], "steps": n}
      -> {"ms": [per-step ms, ...], "tokens": n}   (the model and batch are built once per key and
         warmed up with one step the first time; later requests only time)
  {"op": "generate", "model": {...}, "prompts": [[...]], "new": n}
      -> {"ms": total ms, "tokens": rows x new}   (greedy, KV cache, no EOS stop; one warm-up run per key)
  {"op": "info"} -> {"torch": version, "threads": n}
Usage: python bench/pytorch/scale_server.py --threads N
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from train_step import GPT, packed_batch  # noqa: E402


class Point:
    """One model + batch of the curve, with its optimizer, kept for the repetitions that follow."""

    def __init__(self, m, seqs, starts):
        torch.manual_seed(0)
        self.model = GPT(m["vocabSize"], m["dModel"], m["nLayers"], m["nHeads"], m["dFf"], m["maxSeqLen"])
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0)
        self.d = m["dModel"]
        self.batch = packed_batch(seqs, starts)
        self.tokens = sum(len(s) for s in seqs)
        self.step()  # warm-up: allocations, oneDNN primitive creation

    def step(self):
        kt, kp, km, ksrc, ktg = self.batch
        self.opt.zero_grad(set_to_none=True)
        h = self.model.hidden(kt, kp, km).reshape(-1, self.d)[ksrc]
        loss = F.cross_entropy(self.model.head(h), ktg)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        return loss.item()


@torch.no_grad()
def greedy(model, prompts, new):
    """Greedy decoding with a KV cache (as transformers' DynamicCache: keys/values concatenated per step).
    Prompts are equal-length here, so no padding mask is needed."""
    x = torch.tensor(prompts)
    R, T = x.shape
    cache = [None] * len(model.blocks)

    def step(tokens, start):
        n = tokens.shape[1]
        pos = torch.arange(start, start + n).expand(R, n)
        h = model.wte(tokens) + model.wpe(pos)
        for i, b in enumerate(model.blocks):
            d = h.shape[-1]
            q, k, v = b.qkv(b.ln1(h)).split(d, dim=-1)
            heads = lambda t: t.view(R, n, b.h, d // b.h).transpose(1, 2)
            q, k, v = heads(q), heads(k), heads(v)
            if cache[i] is not None:
                k = torch.cat([cache[i][0], k], 2)
                v = torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=n > 1)
            h = h + b.wo(y.transpose(1, 2).reshape(R, n, d))
            h = h + b.w2(F.gelu(b.w1(b.ln2(h)), approximate="tanh"))
        return model.head(model.lnf(h[:, -1]))

    logits = step(x, 0)
    for t in range(new - 1):
        nxt = logits.argmax(-1, keepdim=True)
        logits = step(nxt, T + t)
    return logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    points = {}
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "info":
            out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
        elif req["op"] == "train":
            key = json.dumps([req["model"], len(req["seqs"]), len(req["seqs"][0])])
            if key not in points:
                points.clear()  # one point at a time: the previous model's memory goes
                points[key] = Point(req["model"], req["seqs"], req["starts"])
            p = points[key]
            ms = []
            for _ in range(req["steps"]):
                t0 = time.perf_counter()
                p.step()
                ms.append((time.perf_counter() - t0) * 1000)
            out = {"ms": ms, "tokens": p.tokens}
        elif req["op"] == "generate":
            key = json.dumps(["gen", req["model"]])
            if key not in points:
                points.clear()
                torch.manual_seed(0)
                m = req["model"]
                points[key] = GPT(m["vocabSize"], m["dModel"], m["nLayers"], m["nHeads"], m["dFf"], m["maxSeqLen"]).eval()
                greedy(points[key], req["prompts"], 2)  # warm-up
            t0 = time.perf_counter()
            greedy(points[key], req["prompts"], req["new"])
            out = {"ms": (time.perf_counter() - t0) * 1000, "tokens": len(req["prompts"]) * req["new"]}
        else:
            out = {"error": f"unknown op {req['op']}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
