"""PyTorch counterpart of `rlhf bench train` (dev-only; not part of the product).

Same workload: a GPT-2 LM (random init, dropout 0) trained on random tokens, every position trained on,
AdamW (lr 1e-4, weight decay 0) with global-norm clipping at 1, batches of full sequences; 2 warm-up
steps, then the median tokens/s over the timed steps; same thread count. A plain PyTorch loop (no Trainer
overhead): the strongest PyTorch baseline for this step.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch transformers
    /tmp/venv/bin/python bench/torch_train.py [--preset peer|gpt2-small] [--steps 10] [--threads 2]
"""
import argparse, json, os, resource, time

import torch
from transformers import GPT2LMHeadModel

from torch_common import gpt2_config, median, sgemm_gflops

PRESETS = {  # layers, width, heads, vocab, batch, sequence
    "peer": (4, 256, 4, 8000, 8, 128),
    "gpt2-small": (12, 768, 12, 50257, 4, 256),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", choices=PRESETS, default="peer")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layers, width, heads, vocab, batch, length = PRESETS[args.preset]
    model = GPT2LMHeadModel(gpt2_config(layers, width, heads, 256, vocab)).float().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    params = sum(p.numel() for p in model.parameters())
    rates = []
    for step in range(args.steps + 2):
        ids = torch.randint(0, vocab, (batch, length))
        t0 = time.perf_counter()
        loss = model(ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= 2:
            rates.append(batch * length / (time.perf_counter() - t0))
    tokens_per_second = median(rates)
    gflops = sgemm_gflops()
    print(json.dumps({"preset": args.preset, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "parameters": params, "tokens_per_second": tokens_per_second, "gflops": gflops,
                      "mfu": 6 * params * tokens_per_second / (gflops * 1e9),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, sort_keys=True))


if __name__ == "__main__":
    main()
