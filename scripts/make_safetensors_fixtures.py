#!/usr/bin/env python3
"""Writes the safetensors fixtures of Tests/TensorTests/Fixtures/safetensors/ with the reference tools.

Dev-only: the Swift tests read the files this writes and never run Python. Regenerate with

    python3 -m venv /work/venv   # any venv outside the repository
    /work/venv/bin/pip install safetensors numpy torch huggingface_hub
    /work/venv/bin/python scripts/make_safetensors_fixtures.py

Written with safetensors 0.8.0, torch 2.15 and huggingface_hub 2.4. Everything is deterministic, so
rerunning must leave `git status` clean.

Files:
- f32/f16/bf16.safetensors: the same float32 source tensors converted with torch's `.to(dtype)` and
  saved with `safetensors.torch.save_file(..., metadata={"format": "pt"})`.
- sharded/: a checkpoint split as transformers' `save_pretrained` splits it (huggingface_hub's
  `split_torch_state_dict_into_shards`, `{"format": "pt"}` per shard, index written with
  `json.dumps(index, indent=2, sort_keys=True) + "\\n"`). One tensor is larger than the shard limit, so
  it gets a shard of its own, placed before the shard being filled when it came.
- expected.json: float32 bit patterns (exact, and inf-safe) of the sources and of what torch reads
  back from each file (`t.to(dtype).to(torch.float32)`), plus the sharded checkpoint's tensors.

NaN is left out on purpose: torch writes bfloat16 NaN as 0xFFFF or 0x7FC0 depending on the kernel it
takes, so no writer can match it byte for byte; the Swift tests check NaN on their own.
"""

import json
from pathlib import Path

import numpy as np
import torch
from huggingface_hub import split_torch_state_dict_into_shards
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent.parent / "Tests" / "TensorTests" / "Fixtures" / "safetensors"
METADATA = {"format": "pt"}
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}

# Values chosen to hit each rounding rule of float16 and bfloat16, in a 4x6 matrix.
EDGE_VALUES = [
    0.0, -0.0, 1.0, -1.0,
    1 + 2**-8,             # bf16 tie between 1 and 1+2^-7: rounds to even (1)
    1 + 3 * 2**-8,         # bf16 tie: rounds up to even (1+2^-6)
    1 + 2**-8 + 2**-20,    # just above a bf16 tie: rounds up
    2049.0,                # f16 tie between 2048 and 2050: rounds to even (2048)
    2051.0,                # f16 tie: rounds up to even (2052)
    65504.0,               # largest f16
    65519.0,               # rounds down to 65504 in f16
    65520.0,               # rounds to inf in f16
    3.4028234663852886e38,  # largest f32: inf in f16 and bf16
    1e-40,                 # f32 subnormal: a bf16 subnormal, 0 in f16
    2**-24,                # smallest f16 subnormal
    2**-25,                # f16 tie between 0 and 2^-24: rounds to 0
    3 * 2**-25,            # f16 tie between 1 and 2 subnormal steps: rounds to 2
    6.1e-5,                # just below the smallest normal f16
    1e30, -1e-30,
    float("inf"), float("-inf"),
    3.14159265, -123.456,
]


def source_tensors():
    """Names sort differently as bytes than as numbers (h.10 < h.2), to pin the writer's order."""
    return {
        "transformer.h.2.weight": torch.tensor(EDGE_VALUES, dtype=torch.float32).reshape(4, 6),
        "transformer.h.10.bias": torch.tensor([-0.3333333], dtype=torch.float32),
        "scale": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }


def sharded_tensors():
    """Listed in state-dict order; each tensor is created on its own so its storage is its size."""
    generator = torch.Generator().manual_seed(0)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float32)

    return {
        "model.embed_tokens.weight": randn(4, 4),  # 64 bytes
        "lm_head.weight": randn(6, 8),             # 192 bytes > limit: a shard of its own
        "model.layers.0.mlp.weight": randn(4, 4),
        "model.layers.0.attn.weight": randn(4, 4),
        "model.norm.weight": randn(4),
    }


SHARD_LIMIT = 150


def bits(tensor):
    return tensor.to(torch.float32).contiguous().numpy().reshape(-1).view(np.uint32).tolist()


def write_single_files(expected):
    sources = source_tensors()
    expected["metadata"] = METADATA
    expected["tensors"] = [
        {"name": name, "shape": list(t.shape), "source_bits": bits(t)} for name, t in sources.items()
    ]
    expected["read_bits"] = {}
    for label, dtype in DTYPES.items():
        converted = {name: t.to(dtype) for name, t in sources.items()}
        save_file(converted, str(OUT / f"{label.lower()}.safetensors"), metadata=METADATA)
        expected["read_bits"][label] = {name: bits(t) for name, t in converted.items()}


def write_sharded(expected):
    directory = OUT / "sharded"
    directory.mkdir(exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    state_dict = sharded_tensors()
    split = split_torch_state_dict_into_shards(
        state_dict, filename_pattern="model{suffix}.safetensors", max_shard_size=SHARD_LIMIT
    )
    for filename, names in split.filename_to_tensors.items():
        save_file({name: state_dict[name] for name in names}, str(directory / filename), metadata=METADATA)
    index = {
        "metadata": {"total_parameters": sum(t.numel() for t in state_dict.values()), **split.metadata},
        "weight_map": split.tensor_to_filename,
    }
    (directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    expected["sharded"] = {
        "max_shard_bytes": SHARD_LIMIT,
        "tensors": [
            {"name": name, "shape": list(t.shape), "source_bits": bits(t)} for name, t in state_dict.items()
        ],
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}
    write_single_files(expected)
    write_sharded(expected)
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
