"""The CUDA step of train_qlora.py: transformers + peft + bitsandbytes (4-bit NF4) on one GPU.

This module is the seam train_qlora.py loads with `--backend` (default `qlora_cuda`). Everything else in the script
(data loading, prompt masking, the training loop, the progress protocol, writing the PEFT adapter, the llama.cpp
conversion) is backend-independent. A backend module provides:
  check()                         raise RuntimeError(message) when it cannot run on this host
  load_tokenizer(base)            a callable tokenizer: tokenizer(text, add_special_tokens=True)["input_ids"], .pad_token_id, .eos_token_id
  load_model(base, rank, alpha, dropout, targets)
                                  the base with LoRA A/B on `targets` (the only trainable parameters); model(input_ids=,
                                  attention_mask=, labels=) returns an object with .loss (labels shifted inside, -100 ignored); .device
  adapter_state_dict(model)       the LoRA tensors under PEFT's names (base_model.model.<module>.lora_A.weight, ...)
  peak_device_bytes()             peak accelerator memory, bytes
"""


def check():
    try:
        import torch
        import peft  # noqa: F401
        import transformers  # noqa: F401
        import bitsandbytes  # noqa: F401
    except ImportError as error:
        raise RuntimeError(f"missing Python package ({error}); pip install -r training/qlora/requirements.txt")
    if not torch.cuda.is_available():
        raise RuntimeError("no CUDA GPU is visible; QLoRA (bitsandbytes 4-bit) needs one. Use the llamacpp-lora trainer on CPU.")


def load_tokenizer(base):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base)


def load_model(base, rank, alpha, dropout, targets):
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16,
    )
    model = AutoModelForCausalLM.from_pretrained(base, quantization_config=quantization, device_map={"": 0})
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    lora = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, bias="none", task_type="CAUSAL_LM", target_modules=targets)
    return get_peft_model(model, lora)


def adapter_state_dict(model):
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(model)


def peak_device_bytes():
    import torch

    return int(torch.cuda.max_memory_allocated())
