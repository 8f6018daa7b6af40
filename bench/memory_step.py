"""PyTorch doing the RL iteration bench/memory-step.ts does, on the same batch and checkpoint.

    <reference venv>/bin/python bench/memory_step.py <hf folder> <batch.json> <threads>

Rollout: a KV-cache sampling loop (transformers' DynamicCache, logits of the last position only),
every row sampling exactly `newTokens` tokens at `temperature`, the sampled token's log-prob kept
(what creditflow's rollout records). Update: GRPO's clipped surrogate on those sequences in
micro-batches of `microBatch` (logits of the response positions only, as TRL's
`logits_to_keep`), gradients summed, global-norm clipping to 1, one torch.optim.AdamW step with its
defaults (betas 0.9/0.99 as creditflow's, eps 1e-8, no decay). float32 on the CPU.

Prints one JSON line: seconds and peak RSS (VmHWM, reset by writing 5 to /proc/self/clear_refs
before each phase, so loading does not count) of each phase, like bench/memory-step.ts.
"""
import json
import sys
import time

import torch
from transformers import DynamicCache, LlamaForCausalLM


def reset_peak():
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def status_mb(field):
    """A field of /proc/self/status given in kB (VmHWM: peak RSS, VmRSS: RSS), in MB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'no {field} in /proc/self/status')


def peak_mb():
    return status_mb('VmHWM')


def rss_mb():
    return status_mb('VmRSS')


def main(folder, batch_file, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    b = json.load(open(batch_file))
    model = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.train()  # no dropout in Llama; train() as a trainer would
    opt = torch.optim.AdamW(model.parameters(), lr=b['lr'], betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0)
    loaded = rss_mb()
    temperature = b['temperature']

    reset_peak()
    started = time.perf_counter()
    prompts = torch.tensor(b['prompts'], dtype=torch.long)
    with torch.no_grad():
        cache = DynamicCache()
        out = model(input_ids=prompts, past_key_values=cache, use_cache=True, logits_to_keep=1)
        sampled, logps = [], []
        for _ in range(b['newTokens']):
            logp_all = torch.log_softmax(out.logits[:, -1, :] / temperature, dim=-1)
            tok = torch.multinomial(logp_all.exp(), 1)
            sampled.append(tok)
            logps.append(logp_all.gather(1, tok))
            out = model(input_ids=tok, past_key_values=out.past_key_values, use_cache=True, logits_to_keep=1)
        del out, cache
    completions = torch.cat(sampled, 1)
    old_logp = torch.cat(logps, 1)
    rollout = {'seconds': time.perf_counter() - started, 'peakRssMb': peak_mb()}

    rewards = torch.tensor(b['rewards'], dtype=torch.float32)
    G = b['groupSize']
    grouped = rewards.view(-1, G)
    adv = ((grouped - grouped.mean(1, keepdim=True)) / (grouped.std(1, keepdim=True) + 1e-6)).view(-1)
    seqs = torch.cat([prompts, completions], 1)
    n_new = completions.shape[1]
    total_tokens = completions.numel()

    reset_peak()
    started = time.perf_counter()
    mb = b['microBatch']
    for s in range(0, seqs.shape[0], mb):
        x = seqs[s:s + mb]
        logits = model(input_ids=x, logits_to_keep=n_new + 1).logits[:, :-1, :] / temperature
        logp = torch.log_softmax(logits, dim=-1).gather(2, completions[s:s + mb].unsqueeze(-1)).squeeze(-1)
        ratio = torch.exp(logp - old_logp[s:s + mb])
        a = adv[s:s + mb].unsqueeze(1)
        surrogate = torch.minimum(ratio * a, torch.clamp(ratio, 0.8, 1.2) * a)
        loss = -surrogate.sum() / total_tokens  # token-mean over the whole step
        loss.backward()
        del logits, logp, ratio, surrogate, loss
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    update = {'seconds': time.perf_counter() - started, 'peakRssMb': peak_mb()}
    print(json.dumps({'backend': f'pytorch {torch.__version__} cpu ({threads} threads)', 'loadedRssMb': loaded, 'rollout': rollout, 'update': update}))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
