"""This machine's torch (1.13) predates the float8 dtypes llama.cpp's conversion/base.py names in a lookup table
(it uses them only for FP8 checkpoints). Adds placeholders under those names when torch has none; nothing else."""

import torch

for _name in ("float8_e4m3fn", "float8_e5m2"):
    if not hasattr(torch, _name):
        setattr(torch, _name, object())
