"""Pieces shared by the PyTorch counterparts of `rlhf bench` (dev-only)."""
import statistics, time

import torch
from transformers import GPT2Config


def sgemm_gflops(n=1024, repeats=20):
    """Best single n³ torch.mm call after 3 warm-ups, as `rlhf bench` measures its own sgemm."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    c = torch.empty(n, n)
    times = []
    for i in range(repeats + 3):
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        if i >= 3:
            times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / min(times) / 1e9


def gpt2_config(layers, width, heads, positions, vocab):
    return GPT2Config(n_layer=layers, n_embd=width, n_head=heads, n_positions=positions, vocab_size=vocab,
                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)


def median(values):
    return statistics.median(values)
