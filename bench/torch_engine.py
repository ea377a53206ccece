"""PyTorch counterpart of `rlhf bench engine` (dev-only; not part of the product).

Same workload: GPT-2-small-shaped LM (12 layers, width 768, 12 heads, 256 positions, vocab 50257, tied
head, dropout 0), random init, random tokens, batch 4 x 256, forward + backward of the next-token loss,
one warm-up step then the median of the timed steps; sgemm 1024^3 through torch.mm (best call); same
thread count.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch transformers
    /tmp/venv/bin/python bench/torch_engine.py [--steps 3] [--threads 2]
"""
import argparse, json, os, time

import torch
from transformers import GPT2LMHeadModel

from torch_common import gpt2_config, median, sgemm_gflops


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gflops = sgemm_gflops()
    model = GPT2LMHeadModel(gpt2_config(12, 768, 12, 256, 50257)).float().train()
    params = sum(p.numel() for p in model.parameters())
    b, t = args.batch_size, 256
    ids = torch.randint(0, 50257, (b, t + 1))
    durations = []
    for step in range(args.steps + 1):
        t0 = time.perf_counter()
        out = model(ids[:, :t], labels=ids[:, :t])  # HF shifts labels internally: t-1 targets per row
        out.loss.backward()
        model.zero_grad(set_to_none=True)
        if step > 0:
            durations.append(time.perf_counter() - t0)
    seconds = median(durations)
    tokens_per_second = b * t / seconds
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "gflops": gflops,
                      "parameters": params, "seconds_per_step": seconds, "tokens_per_second": tokens_per_second,
                      "mfu": 6 * params * tokens_per_second / (gflops * 1e9)}, sort_keys=True))


if __name__ == "__main__":
    main()
