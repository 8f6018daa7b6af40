"""
The PyTorch side of the scale-curve bench (bench/scale.ts): a long-lived process that times training
steps of creditflow's built-in architecture (train_step.py's GPT, the same packed step) on request,
so that bench/scale.ts can interleave its timings with the TensorFlow.js engine's, A/B, in one run.

Protocol: one JSON request per stdin line, one JSON reply per stdout line.
  {"op": "train", "model": {...ModelConfig}, "seqs": [[...]], "starts": [...], "steps": n}
      -> {"ms": [per-step ms, ...], "tokens": n}   (the model and batch are built once per key and
         warmed up with one step the first time; later requests only time)
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
        else:
            out = {"error": f"unknown op {req['op']}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
