#!/usr/bin/env python3
"""QLoRA for Council on a GPU host: transformers + peft + bitsandbytes (4-bit NF4), then llama.cpp's
convert_lora_to_gguf.py turns the PEFT adapter into a GGUF LoRA adapter.

It speaks the same JSON-lines progress protocol on stdout as native/lora-train (see training/trainer-events.ts):
  {"event": "start"|"step"|"epoch"|"done"|"error", ...}
Exit codes: 0 ok, 1 TRAINING_FAILED, 2 usage, 3 DATASET_INVALID, 4 MODEL_INVALID.

The CUDA step (tokenizer, 4-bit model, PEFT wrapping) lives behind one seam, the `--backend` module (default
qlora_cuda.py); the rest of this file runs the same on any backend.

Council runs it through training/qlora-trainer.ts; see training/qlora/README.md to run it by hand.
"""

import argparse
import importlib
import json
import math
import os
import random
import resource
import subprocess
import sys
import time


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class TrainError(Exception):
    def __init__(self, code, message, exit_code):
        super().__init__(message)
        self.code = code
        self.exit_code = exit_code


def read_dataset(path, tokenizer, max_length):
    """prompt/completion JSONL -> token ids with labels masked (-100) on the prompt."""
    examples = []
    with open(path, "r", encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise TrainError("DATASET_INVALID", f"{path}: no examples", 3)
    for number, line in enumerate(lines, start=1):
        where = f"{path}:{number}"
        if not line.strip():
            raise TrainError("DATASET_INVALID", f"{where}: empty line", 3)
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise TrainError("DATASET_INVALID", f"{where}: not valid JSON ({error})", 3)
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str) or not isinstance(row.get("completion"), str):
            raise TrainError("DATASET_INVALID", f'{where}: expected {{"prompt": string, "completion": string}}', 3)
        if not row["completion"].strip():
            raise TrainError("DATASET_INVALID", f"{where}: completion is empty", 3)
        # tokenize the whole text as inference continues the prompt; the answer starts where the prompt's tokens stop matching
        full = tokenizer(row["prompt"] + row["completion"], add_special_tokens=True)["input_ids"]
        prompt = tokenizer(row["prompt"], add_special_tokens=True)["input_ids"]
        common = 0
        while common < len(prompt) and common < len(full) and prompt[common] == full[common]:
            common += 1
        common = max(common, 1)
        if common >= len(full):
            raise TrainError("DATASET_INVALID", f"{where}: completion has no tokens of its own", 3)
        if len(full) > max_length:
            raise TrainError("DATASET_INVALID", f"{where}: example is {len(full)} tokens, longer than the context ({max_length})", 3)
        labels = [-100] * common + full[common:]
        examples.append({"input_ids": full, "labels": labels})
    return examples


def batches(examples, batch_size, pad_id, rng):
    order = list(range(len(examples)))
    rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        chunk = [examples[i] for i in order[start:start + batch_size]]
        width = max(len(e["input_ids"]) for e in chunk)
        input_ids, labels, attention = [], [], []
        for e in chunk:
            pad = width - len(e["input_ids"])
            input_ids.append(e["input_ids"] + [pad_id] * pad)
            labels.append(e["labels"] + [-100] * pad)
            attention.append([1] * len(e["input_ids"]) + [0] * pad)
        yield input_ids, labels, attention


PEFT_CONFIG = "adapter_config.json"


def write_peft_adapter(work, state, base, rank, alpha, dropout, targets):
    """Writes the adapter in PEFT's on-disk format (what `PeftModel.save_pretrained` writes and
    convert_lora_to_gguf.py reads): adapter_config.json and adapter_model.safetensors (adapter_model.bin, torch's
    format, when the safetensors package is absent). Returns the weights file."""
    import torch

    if not state:
        raise TrainError("TRAINING_FAILED", "the model has no LoRA tensors to save (no target module matched)", 1)
    os.makedirs(work, exist_ok=True)
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": os.path.abspath(base),
        "r": rank,
        "lora_alpha": alpha,
        "lora_dropout": dropout,
        "bias": "none",
        "target_modules": targets,
        "fan_in_fan_out": False,
        "inference_mode": True,
        "modules_to_save": None,
    }
    with open(os.path.join(work, PEFT_CONFIG), "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
    tensors = {name: tensor.detach().to(device="cpu", dtype=torch.float32).contiguous() for name, tensor in state.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        path = os.path.join(work, "adapter_model.bin")
        torch.save(tensors, path)
        return path
    path = os.path.join(work, "adapter_model.safetensors")
    save_file(tensors, path, metadata={"format": "pt"})
    return path


def convert_to_gguf(llama_cpp, base, work, out):
    """llama.cpp's convert_lora_to_gguf.py: the PEFT adapter in `work` -> a GGUF LoRA adapter at `out` (temp, then rename)."""
    convert = os.path.join(llama_cpp, "convert_lora_to_gguf.py")
    if not os.path.exists(convert):
        raise TrainError("TRAINING_FAILED", f"{convert} is missing; --llama-cpp must be a llama.cpp source tree", 1)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(llama_cpp, "gguf-py") + os.pathsep + env.get("PYTHONPATH", "")
    tmp_out = out + ".tmp"
    result = subprocess.run([sys.executable, convert, "--base", base, "--outfile", tmp_out, "--outtype", "f32", work],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0 or not os.path.exists(tmp_out):
        raise TrainError("TRAINING_FAILED", f"convert_lora_to_gguf.py failed: {result.stdout[-2000:]}", 1)
    os.replace(tmp_out, out)


def tied_head_targets(base, targets):
    """lm_head when the model ties it to the token embeddings (tie_word_embeddings, as Qwen2.5-0.5B does): its GGUF
    has no output.weight for the adapter to apply to, so lm_head is not trained. Returned so the run records it."""
    try:
        with open(os.path.join(base, "config.json"), "r", encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise TrainError("MODEL_INVALID", f"cannot read {base}/config.json: {error}", 4)
    return ["lm_head"] if "lm_head" in targets and config.get("tie_word_embeddings") is True else []


def load_backend(name):
    """The module that loads the tokenizer and the 4-bit model (see qlora_cuda.py for what it provides)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise TrainError("TRAINING_FAILED", f"cannot load the training backend {name} ({error})", 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="Hugging Face model folder (config.json, tokenizer, safetensors)")
    parser.add_argument("--data", required=True, help="prompt/completion JSONL")
    parser.add_argument("--out", required=True, help="GGUF adapter to write")
    parser.add_argument("--work", required=True, help="scratch folder for the PEFT adapter")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32)
    parser.add_argument("--dropout", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--warmup", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--llama-cpp", required=True, help="llama.cpp source tree (convert_lora_to_gguf.py, gguf-py)")
    parser.add_argument("--backend", default="qlora_cuda",
                        help="Python module that loads the tokenizer and the 4-bit model (default qlora_cuda: transformers + peft + bitsandbytes on CUDA)")
    args = parser.parse_args()

    started = time.time()
    backend = load_backend(args.backend)
    try:
        backend.check()
    except RuntimeError as error:
        raise TrainError("TRAINING_FAILED", str(error), 1)
    import torch

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    try:
        tokenizer = backend.load_tokenizer(args.base)
    except Exception as error:  # noqa: BLE001 - any load failure means the folder is not a usable model
        raise TrainError("MODEL_INVALID", f"cannot load the tokenizer of {args.base}: {error}", 4)
    examples = read_dataset(args.data, tokenizer, args.max_length)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    targets = args.targets.split(",")
    skipped = tied_head_targets(args.base, targets)
    targets = [target for target in targets if target not in skipped]
    try:
        model = backend.load_model(args.base, rank=args.rank, alpha=args.alpha, dropout=args.dropout, targets=targets)
    except Exception as error:  # noqa: BLE001
        raise TrainError("MODEL_INVALID", f"cannot load {args.base} in 4-bit: {error}", 4)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total_params = sum(p.numel() for p in model.parameters())

    steps_per_epoch = math.ceil(len(examples) / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    warmup_steps = int(args.warmup * total_steps)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)

    def lr_at(step):
        if step < warmup_steps:
            return args.lr * (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        low = args.lr / 10
        return low + 0.5 * (args.lr - low) * (1 + math.cos(math.pi * progress))

    emit(event="start", examples=len(examples), steps=total_steps, epochs=args.epochs, trainableParams=trainable,
         modelParams=total_params, quantization="nf4", batchSize=args.batch_size, rank=args.rank, alpha=args.alpha,
         maskPrompt=True, skippedTargets=skipped, trainedTokens=sum(sum(1 for label in e["labels"] if label != -100) for e in examples))
    rng = random.Random(args.seed)
    model.train()
    step = 0
    tokens_total = 0
    train_started = time.time()
    for epoch in range(1, args.epochs + 1):
        epoch_started = time.time()
        loss_sum, loss_tokens, epoch_tokens = 0.0, 0, 0
        for input_ids, labels, attention in batches(examples, args.batch_size, pad_id, rng):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            ids = torch.tensor(input_ids, device=model.device)
            lab = torch.tensor(labels, device=model.device)
            mask = torch.tensor(attention, device=model.device)
            output = model(input_ids=ids, attention_mask=mask, labels=lab)
            output.loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            answer_tokens = int((lab[:, 1:] != -100).sum().item())
            loss_sum += float(output.loss.item()) * answer_tokens
            loss_tokens += answer_tokens
            batch_tokens = int(mask.sum().item())
            epoch_tokens += batch_tokens
            tokens_total += batch_tokens
            elapsed = max(1e-9, time.time() - epoch_started)
            emit(event="step", epoch=epoch, step=step, steps=total_steps, loss=float(output.loss.item()), lr=lr_at(step - 1),
                 tokensPerSecond=epoch_tokens / elapsed)
        seconds = time.time() - epoch_started
        epoch_loss = loss_sum / max(1, loss_tokens)
        if not math.isfinite(epoch_loss):
            raise TrainError("TRAINING_FAILED", f"training diverged at epoch {epoch} (loss is not finite; lower --lr)", 1)
        emit(event="epoch", epoch=epoch, epochs=args.epochs, loss=epoch_loss, seconds=seconds, tokensPerSecond=epoch_tokens / max(1e-9, seconds))
    train_seconds = time.time() - train_started

    write_peft_adapter(args.work, backend.adapter_state_dict(model), base=args.base, rank=args.rank, alpha=args.alpha,
                       dropout=args.dropout, targets=targets)
    convert_to_gguf(args.llama_cpp, args.base, args.work, args.out)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    emit(event="done", adapter=args.out, trainSeconds=train_seconds, seconds=time.time() - started,
         tokensPerSecond=tokens_total / max(1e-9, train_seconds), peakRssBytes=peak, trainableParams=trainable,
         modelParams=total_params, peakGpuBytes=backend.peak_device_bytes())


if __name__ == "__main__":
    try:
        main()
    except TrainError as failure:
        emit(event="error", code=failure.code, message=str(failure))
        sys.exit(failure.exit_code)
    except Exception as failure:  # noqa: BLE001 - report anything else as a failed run
        emit(event="error", code="TRAINING_FAILED", message=f"{type(failure).__name__}: {failure}")
        sys.exit(1)
