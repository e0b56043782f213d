"""Test stand-in for qlora_cuda.py (the one CUDA step of train_qlora.py), for machines without a GPU,
transformers, peft or bitsandbytes. Only torch is real here.

It reads the base folder's config.json (a llama-shaped Hugging Face config) and builds a small llama-like torch
model of that shape with frozen random weights in full precision (NOT 4-bit) and PEFT-style LoRA A/B matrices on
the target modules and, when targeted, lm_head (B starts at zero, as in PEFT); a byte-level tokenizer stands in for the model's own. The
adapter's tensor names and shapes are the ones PEFT would save for a LlamaForCausalLM of that config, so
llama.cpp's convert_lora_to_gguf.py converts them for real.
"""

import json
import math
import os
import types

import torch
from torch import nn

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")


def check():
    pass


class ByteTokenizer:
    bos_token_id = 1
    eos_token_id = 2
    pad_token_id = None

    def __init__(self, vocab_size):
        self.vocab_size = vocab_size

    def __call__(self, text, add_special_tokens=True):
        ids = [3 + byte % (self.vocab_size - 3) for byte in text.encode("utf-8")]
        return {"input_ids": ([self.bos_token_id] if add_special_tokens else []) + ids}


def read_config(base):
    with open(os.path.join(base, "config.json"), "r", encoding="utf-8") as handle:
        config = json.load(handle)
    if config.get("model_type") != "llama":
        raise ValueError(f"the stand-in builds llama-shaped models only, not {config.get('model_type')}")
    return config


def load_tokenizer(base):
    return ByteTokenizer(read_config(base)["vocab_size"])


class LoraLinear(nn.Module):
    def __init__(self, in_features, out_features, rank, scale, lora):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / math.sqrt(in_features), requires_grad=False)
        self.lora = lora
        self.scale = scale
        if lora:
            self.lora_A = nn.Parameter(torch.randn(rank, in_features) / math.sqrt(in_features))
            self.lora_B = nn.Parameter(torch.zeros(out_features, rank))

    def forward(self, x):
        y = x @ self.weight.T
        return y + (x @ self.lora_A.T @ self.lora_B.T) * self.scale if self.lora else y


def rms(x):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)


class StandInLlama(nn.Module):
    def __init__(self, config, rank, alpha, targets):
        super().__init__()
        hidden, heads = config["hidden_size"], config["num_attention_heads"]
        kv = config.get("num_key_value_heads", heads) * (hidden // heads)
        ff, vocab = config["intermediate_size"], config["vocab_size"]
        self.heads = heads
        unknown = set(targets) - set(ATTENTION + MLP + ("lm_head",))
        if unknown:
            raise ValueError(f"unknown target modules {sorted(unknown)}")
        shapes = {"q_proj": (hidden, hidden), "k_proj": (hidden, kv), "v_proj": (hidden, kv), "o_proj": (hidden, hidden),
                  "gate_proj": (hidden, ff), "up_proj": (hidden, ff), "down_proj": (ff, hidden)}
        make = lambda name: LoraLinear(*shapes[name], rank, alpha / rank, name in targets)  # noqa: E731
        self.embed = nn.Parameter(torch.randn(vocab, hidden) * 0.5, requires_grad=False)
        self.lm_head = LoraLinear(hidden, vocab, rank, alpha / rank, "lm_head" in targets)
        self.layers = nn.ModuleList(nn.ModuleDict({name: make(name) for name in ATTENTION + MLP}) for _ in range(config["num_hidden_layers"]))

    @property
    def device(self):
        return self.embed.device

    def forward(self, input_ids, attention_mask, labels):
        x = self.embed[input_ids]
        batch, width, hidden = x.shape
        causal = torch.ones(width, width, dtype=torch.bool).tril()
        keep = causal[None, None] & attention_mask[:, None, None, :].bool()
        split = lambda t: t.view(batch, width, self.heads, -1).transpose(1, 2)  # noqa: E731
        for layer in self.layers:
            h = rms(x)
            q, k, v = split(layer["q_proj"](h)), split(layer["k_proj"](h)), split(layer["v_proj"](h))
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
            attended = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1) @ v
            x = x + layer["o_proj"](attended.transpose(1, 2).reshape(batch, width, hidden))
            h = rms(x)
            x = x + layer["down_proj"](torch.nn.functional.silu(layer["gate_proj"](h)) * layer["up_proj"](h))
        logits = self.lm_head(rms(x))
        # as transformers' causal LM loss: position t predicts label t+1; -100 is ignored
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)
        return types.SimpleNamespace(loss=loss)


def load_model(base, rank, alpha, dropout, targets):
    return StandInLlama(read_config(base), rank, alpha, targets)


def adapter_state_dict(model):
    state = {}
    for index, layer in enumerate(model.layers):
        for name, module in layer.items():
            if not module.lora:
                continue
            prefix = f"base_model.model.model.layers.{index}.{'self_attn' if name in ATTENTION else 'mlp'}.{name}"
            state[f"{prefix}.lora_A.weight"] = module.lora_A
            state[f"{prefix}.lora_B.weight"] = module.lora_B
    if model.lm_head.lora:
        state["base_model.model.lm_head.lora_A.weight"] = model.lm_head.lora_A
        state["base_model.model.lm_head.lora_B.weight"] = model.lm_head.lora_B
    return state


def peak_device_bytes():
    return 0
