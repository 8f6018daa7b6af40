"""
PyTorch CUDA throughput of Llama-family models, for bench/gpu.ts to set beside creditflow's CUDA
backend on the same GPU, model and batch shapes.

Each job is one model: an HF folder (loaded by transformers, float32) or a config.json dict
(random init). For each it times
  train     forward + backward + AdamW (beta 0.9/0.99, eps 1e-8, no weight decay) + global-norm clip 1.0,
            token-mean NLL of the tokens after `start` (labels -100 before), `batch` rows of `seq_len`
            random token ids: the step bench/gpu.ts runs through models/train-step.ts;
  generate  greedy decoding with the KV cache (transformers' generate, min_new_tokens = max_new_tokens
            so no row stops early), `batch` prompts of `prompt_len` random ids.
float32 everywhere and TF32 off (PyTorch's default for matmul; NVIDIA_TF32_OVERRIDE=0 is inherited
from bench/gpu.ts as well), as creditflow runs.

Usage: python bench/pytorch/gpu_llama.py JOBS.json [--device cpu]
(--device cpu only smoke-tests this script on a machine without a GPU, with a tiny job.)
JOBS.json: [{"name", "folder" | "config", "train": {"batch", "seq_len", "start", "steps"},
             "generate": {"batch", "prompt_len", "new_tokens"}}]
Prints one JSON line per job: {"name", "torch", "device", "params", "train_tokens_per_s", "train_ms",
"generate_tokens_per_s", "generate_ms", "peak_mem_gib"} (a failed part gives "train_error"/"generate_error").
"""
import json
import sys
import time

import torch


DEVICE = "cpu" if sys.argv[2:4] == ["--device", "cpu"] else "cuda"


def sync():
    if DEVICE == "cuda":
        sync()


def load(job):
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    if "folder" in job:
        model = AutoModelForCausalLM.from_pretrained(job["folder"], dtype=torch.float32, attn_implementation="sdpa")
        return model.to(DEVICE)
    cfg = LlamaConfig(**job["config"])
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(DEVICE):
        return LlamaForCausalLM(cfg).float()


def train(model, vocab, spec):
    b, t, start, steps = spec["batch"], spec["seq_len"], spec["start"], spec["steps"]
    g = torch.Generator(device=DEVICE).manual_seed(1)
    ids = torch.randint(3, vocab, (b, t), device=DEVICE, generator=g)
    labels = ids.clone()
    labels[:, :start] = -100
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, labels=labels).loss  # mean over the labelled tokens
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()  # synchronises, as the engine's step reads its loss

    step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    ms = (time.perf_counter() - t0) / steps * 1000
    del opt
    return b * t / (ms / 1000), ms


@torch.no_grad()
def generate(model, vocab, spec):
    b, p, n = spec["batch"], spec["prompt_len"], spec["new_tokens"]
    g = torch.Generator(device=DEVICE).manual_seed(2)
    ids = torch.randint(3, vocab, (b, p), device=DEVICE, generator=g)
    model.eval()
    kw = dict(attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n, do_sample=False, use_cache=True, pad_token_id=0)
    model.generate(ids, **{**kw, "max_new_tokens": 4, "min_new_tokens": 4})  # warm-up
    sync()
    t0 = time.perf_counter()
    out = model.generate(ids, **kw)
    sync()
    ms = (time.perf_counter() - t0) * 1000
    assert out.shape[1] == p + n, out.shape
    return b * n / (ms / 1000), ms


def main():
    jobs = json.load(open(sys.argv[1]))
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": "PyTorch sees no CUDA device", "torch": torch.__version__}))
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.cuda.get_device_name(0) if DEVICE == "cuda" else "cpu"
    for job in jobs:
        out = {"name": job["name"], "torch": torch.__version__, "device": device}
        try:
            model = load(job)
        except Exception as e:  # report and go on: one model failing must not hide the other
            print(json.dumps({**out, "train_error": f"load: {e}", "generate_error": f"load: {e}"}), flush=True)
            continue
        vocab = model.config.vocab_size
        out["params"] = sum(p.numel() for p in model.parameters())
        if DEVICE == "cuda":
            torch.cuda.reset_peak_memory_stats()
        for part, fn in (("train", train), ("generate", generate)):
            try:
                tps, ms = fn(model, vocab, job[part])
                out[f"{part}_tokens_per_s"], out[f"{part}_ms"] = tps, ms
            except Exception as e:
                out[f"{part}_error"] = str(e).split("\n")[0][:300]
        if DEVICE == "cuda":
            out["peak_mem_gib"] = torch.cuda.max_memory_allocated() / 2**30
        del model
        if DEVICE == "cuda":
            torch.cuda.empty_cache()
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
