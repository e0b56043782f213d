#!/usr/bin/env python3
"""Reading pre-training of the Council seedling (a llama-architecture model) with PyTorch on CPU.

Input: a folder made by council/reading/build-reading-seedling.ts:
  config.json   shape, optimiser and schedule, seed, threads
  train.tokens  uint16 tokens of every train example, back to back
  train.index   int32 triples (offset, prompt_length, total_length)
  val.tokens / val.index   the same for validation examples (allowed pages never trained on)
  val-items.json  [{prompt: [ids], command: "..."}] greedy-decoded to measure exact-command accuracy
  vocab.json    the tokenizer's pieces (to detokenize answers)
Output (same folder): weights.bin (float32, ggml layout, tensors in weights.json order), weights.json,
  and one JSON object per line on stdout: {"event": "step"|"eval"|"done", ...}.

The model is computed exactly as llama.cpp computes LLM_ARCH_LLAMA (RMS norm, NORM-mode RoPE on adjacent
pairs, SwiGLU), so the exported tensors run unchanged in llama.cpp. Loss: cross-entropy on every token,
weighted `answer_weight` on the answer (completion) and `context_weight` on the prompt.
"""
import json, math, os, sys, time

# OpenBLAS's own thread pool on top of torch's threads oversubscribes the cores (measured 4.9x slower steps on
# 2 cores); torch.set_num_threads below sets the parallelism. Must be set before numpy/torch load OpenBLAS.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def emit(**event):
    print(json.dumps(event), flush=True)


class Block(nn.Module):
    def __init__(self, d, heads, ff, eps):
        super().__init__()
        self.heads, self.eps = heads, eps
        self.attn_norm = nn.Parameter(torch.ones(d))
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.ffn_norm = nn.Parameter(torch.ones(d))
        self.gate = nn.Linear(d, ff, bias=False)
        self.up = nn.Linear(d, ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        hd = d // self.heads
        h = rms(x, self.attn_norm, self.eps)
        q = rope(self.q(h).view(b, t, self.heads, hd), cos, sin).transpose(1, 2)
        k = rope(self.k(h).view(b, t, self.heads, hd), cos, sin).transpose(1, 2)
        v = self.v(h).view(b, t, self.heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask[:t, :t]
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(y)
        h = rms(x, self.ffn_norm, self.eps)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    # llama.cpp NORM mode: rotate adjacent pairs (x[2i], x[2i+1]) by pos * base^(-2i/hd).
    t = x.shape[1]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[:t, None, :], sin[:t, None, :]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


class Llama(nn.Module):
    def __init__(self, vocab, d, layers, heads, ff, eps, rope_base, max_len):
        super().__init__()
        self.eps = eps
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([Block(d, heads, ff, eps) for _ in range(layers)])
        self.out_norm = nn.Parameter(torch.ones(d))
        hd = d // heads
        inv = rope_base ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
        ang = torch.arange(max_len, dtype=torch.float32)[:, None] * inv[None, :]
        self.register_buffer("cos", ang.cos(), persistent=False)
        self.register_buffer("sin", ang.sin(), persistent=False)
        self.register_buffer("mask", torch.full((max_len, max_len), float("-inf")).triu(1), persistent=False)

    def forward(self, ids):
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, self.cos, self.sin, self.mask)
        return rms(x, self.out_norm, self.eps) @ self.embed.weight.T


def init_weights(model, layers):
    for name, p in model.named_parameters():
        if p.dim() == 1:
            continue
        std = 0.02 / math.sqrt(2 * layers) if name.endswith(("o.weight", "down.weight")) else 0.02
        nn.init.normal_(p, 0.0, std)


def tensor_names(model):
    """The model's tensors in llama.cpp names (the output head is tied to the embeddings)."""
    names = [("token_embd.weight", model.embed.weight)]
    for i, b in enumerate(model.blocks):
        p = f"blk.{i}."
        names += [(p + "attn_norm.weight", b.attn_norm), (p + "attn_q.weight", b.q.weight), (p + "attn_k.weight", b.k.weight),
                  (p + "attn_v.weight", b.v.weight), (p + "attn_output.weight", b.o.weight), (p + "ffn_norm.weight", b.ffn_norm),
                  (p + "ffn_gate.weight", b.gate.weight), (p + "ffn_down.weight", b.down.weight), (p + "ffn_up.weight", b.up.weight)]
    return names + [("output_norm.weight", model.out_norm)]


def export(model, cfg, path):
    """Tensors in llama.cpp names; torch's row-major [out, in] is ggml's [in, out]."""
    names = tensor_names(model) + [("output.weight", model.embed.weight)]
    index, offset = [], 0
    with open(path + ".tmp", "wb") as f:
        for name, t in names:
            data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
            f.write(data)
            index.append({"name": name, "shape": list(t.shape), "offset": offset, "bytes": len(data)})
            offset += len(data)
    os.replace(path + ".tmp", path)
    with open(os.path.join(os.path.dirname(path), "weights.json"), "w") as f:
        json.dump(index, f)


def load_weights(model, path):
    """Starts from earlier weights (a later stage): the layout `export` writes, read back by tensor name."""
    index = json.load(open(os.path.join(os.path.dirname(path), os.path.basename(path).replace(".bin", ".json"))))
    raw = np.fromfile(path, dtype=np.float32)
    by_name = {entry["name"]: entry for entry in index}
    names = tensor_names(model)
    with torch.no_grad():
        for name, param in names:
            entry = by_name.get(name)
            if entry is None or entry["bytes"] != param.numel() * 4:
                raise SystemExit(f"init weights lack {name} of {param.numel()} values")
            start = entry["offset"] // 4
            param.copy_(torch.from_numpy(raw[start:start + param.numel()].copy()).view(param.shape))


def load_split(folder, name):
    tokens = np.fromfile(os.path.join(folder, f"{name}.tokens"), dtype=np.uint16).astype(np.int64)
    index = np.fromfile(os.path.join(folder, f"{name}.index"), dtype=np.int32).reshape(-1, 3)
    return torch.from_numpy(tokens), index


def make_batch(tokens, index, rows, answer_weight, context_weight):
    lengths = [int(index[r, 2]) for r in rows]
    t = max(lengths)
    ids = torch.zeros((len(rows), t), dtype=torch.long)
    weights = torch.zeros((len(rows), t - 1))
    for j, r in enumerate(rows):
        off, plen, n = (int(v) for v in index[r])
        ids[j, :n] = tokens[off:off + n]
        weights[j, : plen - 1] = context_weight
        weights[j, plen - 1 : n - 1] = answer_weight
    return ids, weights


def batch_loss(model, ids, weights):
    logits = model(ids[:, :-1])
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view(weights.shape)
    return (ce * weights).sum() / weights.sum()


def decode(pieces, ids):
    out = bytearray()
    for i in ids:
        piece = pieces[i]
        if piece.startswith("<0x") and piece.endswith(">") and len(piece) == 6:
            out.append(int(piece[3:5], 16))
        elif piece in ("<s>", "</s>", "<unk>"):
            continue
        else:
            out += piece.replace("\u2581", " ").encode("utf-8")
    return out.decode("utf-8", errors="replace")


@torch.no_grad()
def evaluate(model, cfg, val_tokens, val_index, items, pieces, eos):
    model.eval()
    rows = list(range(min(len(val_index), cfg["val_examples"])))
    total, weight = 0.0, 0.0
    for start in range(0, len(rows), 32):
        ids, w = make_batch(val_tokens, val_index, rows[start:start + 32], 1.0, 0.0)
        logits = model(ids[:, :-1])
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view(w.shape)
        total += float((ce * w).sum())
        weight += float(w.sum())
    exact, stopped = 0, 0
    by_kind = {}
    samples = []
    target_of = lambda item: "`" + item["command"] + "`"
    for number, item in enumerate(items[: cfg["val_decode"]]):
        ids = list(item["prompt"])
        out = []
        full = number < cfg.get("full_decode", 10)
        for _ in range(cfg["decode_tokens"]):
            nxt = int(model(torch.tensor([ids[-cfg["max_len"]:]]))[0, -1].argmax())
            if nxt == eos:
                break
            out.append(nxt)
            ids.append(nxt)
            text = decode(pieces, out)
            if "\n###" in text:
                break
            if not full and not target_of(item).startswith(text.strip()[: len(target_of(item))]):
                break
        text = decode(pieces, out).split("\n###")[0]
        if full and len(out) < cfg["decode_tokens"]:
            stopped += 1
        hit = text.strip().startswith("`" + item["command"] + "`")
        exact += int(hit)
        kind = by_kind.setdefault(item.get("kind", "read"), [0, 0])
        kind[0] += int(hit)
        kind[1] += 1
        if full and len(samples) < 4:
            samples.append({"want": item["command"], "got": text[:160]})
    model.train()
    n = max(1, min(len(items), cfg["val_decode"]))
    n_full = max(1, min(n, cfg.get("full_decode", 10)))
    exact_by_kind = {k: round(v[0] / v[1], 4) for k, v in by_kind.items()}
    return {"val_loss": total / max(weight, 1.0), "exact": exact / n, "exact_by_kind": exact_by_kind, "stopped": stopped / n_full, "decoded": n, "samples": samples}


def main():
    folder = sys.argv[1]
    cfg = json.load(open(os.path.join(folder, "config.json")))
    torch.manual_seed(cfg["seed"])
    torch.set_num_threads(cfg["threads"])
    rng = np.random.default_rng(cfg["seed"])
    tokens, index = load_split(folder, "train")
    val_tokens, val_index = load_split(folder, "val")
    items = json.load(open(os.path.join(folder, "val-items.json")))
    pieces = json.load(open(os.path.join(folder, "vocab.json")))
    s = cfg["shape"]
    model = Llama(len(pieces), s["embedding"], s["layers"], s["heads"], s["feedForward"], s.get("rmsEpsilon", 1e-5), s.get("ropeFreqBase", 10000.0), cfg["max_len"])
    init_weights(model, s["layers"])
    if cfg.get("init_weights"):
        load_weights(model, os.path.join(folder, cfg["init_weights"]))
    params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() == 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg["lr"], betas=(0.9, 0.95))
    steps, warmup = cfg["steps"], cfg["warmup"]
    emit(event="start", parameters=params, train_examples=len(index), val_examples=len(val_index), steps=steps)
    def batches():
        # Length-bucketed batches (less padding): chunks of 64 batches sorted by length, batches shuffled.
        perm = rng.permutation(len(index))
        out = []
        chunk = cfg["batch"] * 64
        for start in range(0, len(perm), chunk):
            part = sorted(perm[start:start + chunk], key=lambda r: int(index[r, 2]))
            out += [part[i:i + cfg["batch"]] for i in range(0, len(part), cfg["batch"])]
        return [out[i] for i in rng.permutation(len(out))]

    order = batches()
    cursor, started = 0, time.time()
    seen_tokens = 0
    step = 0
    while step < steps:
        step += 1
        if step == 21 and cfg.get("max_minutes"):
            per_step = (time.time() - started) / 20
            budget = int(cfg["max_minutes"] * 60 * 0.92 / per_step)
            if budget < steps:
                steps = max(step + 1, budget)
                emit(event="budget", steps=steps, seconds_per_step=round(per_step, 3))
        lr = cfg["lr"] * min(1.0, step / warmup) * (cfg["lr_min_ratio"] + (1 - cfg["lr_min_ratio"]) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / steps))))
        for group in opt.param_groups:
            group["lr"] = lr
        if cursor >= len(order):
            order, cursor = batches(), 0
        rows = order[cursor]
        cursor += 1
        ids, w = make_batch(tokens, index, rows, cfg["answer_weight"], cfg["context_weight"])
        seen_tokens += int(ids.numel())
        loss = batch_loss(model, ids, w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"]))
        opt.step()
        if step % cfg["log_every"] == 0 or step == 1:
            emit(event="step", step=step, loss=round(float(loss), 4), grad_norm=round(norm, 3), lr=lr, seconds=round(time.time() - started, 1), tokens=seen_tokens)
        if step % cfg["eval_every"] == 0 or step == steps:
            result = evaluate(model, cfg, val_tokens, val_index, items, pieces, cfg["eos"])
            emit(event="eval", step=step, seconds=round(time.time() - started, 1), **result)
            export(model, cfg, os.path.join(folder, "weights.bin"))
    emit(event="done", steps=steps, seconds=round(time.time() - started, 1), tokens=seen_tokens)


if __name__ == "__main__":
    main()
