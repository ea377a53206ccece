"""Peer counterpart of greedy decoding (dev-only; imports nothing from RLHFKit): transformers `generate` on CPU.

Measures: wall time of `model.generate` (greedy, KV cache) for a batch of `--batch-size` random prompts of exactly
`--prompt-length` tokens (torch.Generator seed 2, no padding, attention mask all ones), each row forced to make
exactly `--new-tokens` tokens (min_new_tokens = max_new_tokens). One untimed warm-up call with 8 new tokens, then
`--rounds` timed calls; tokens_per_s = median over the rounds of batch * new_tokens / seconds (prompt prefill is
inside the timed call, prompt tokens are not counted). float32, 2 threads, randomly initialised model
(torch.manual_seed(0)):
  --shape gpt2 (default): GPT2LMHeadModel, the peer shape (4 layers, 4 heads, width 256, vocab 8000), dropout 0,
      but n_positions 512 so that prompt + 256 new tokens fit; 5.3 M parameters.
  --shape qwen2-0.5b: Qwen2ForCausalLM with Qwen2-0.5B's config (hidden 896, 24 layers, 14 heads, 2 KV heads,
      intermediate 4864, vocab 151936, tied embeddings, rope_theta 1e6); prompt ids still drawn from 0..<8000.

    PEERS=/work/peers $PEERS/venv/bin/python bench/peer_generate.py [--batch-size 8] [--shape gpt2|qwen2-0.5b]

Prints one JSON object on stdout.
"""
import argparse, json, os, statistics, sys, time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel, Qwen2Config, Qwen2ForCausalLM

EOS_ID, PAD_ID = 0, 1  # the ids of $PEERS/fixtures/tokenizer-8000 (<|endoftext|>, <|pad|>)
PROMPT_VOCAB = 8000


def make_model(shape):
    torch.manual_seed(0)
    ids = dict(bos_token_id=EOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID)
    if shape == "gpt2":
        config = GPT2Config(n_layer=4, n_head=4, n_embd=256, n_positions=512, vocab_size=8000,
                            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **ids)
        return GPT2LMHeadModel(config).float().eval()
    config = Qwen2Config(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True, rope_theta=1e6,
                         max_position_embeddings=32768, rms_norm_eps=1e-6, hidden_act="silu",
                         use_sliding_window=False, attention_dropout=0.0, **ids)
    return Qwen2ForCausalLM(config).float().eval()


def cpu_busy_s():
    """Machine-wide busy CPU seconds (/proc/stat), to report how much other processes ran meanwhile."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--prompt-length", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shape", choices=["gpt2", "qwen2-0.5b"], default="gpt2")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = make_model(args.shape)
    n_params = sum(p.numel() for p in model.parameters())
    gen = torch.Generator().manual_seed(2)
    input_ids = torch.randint(0, PROMPT_VOCAB, (args.batch_size, args.prompt_length), generator=gen)
    attention_mask = torch.ones_like(input_ids)

    def generate(new_tokens):
        out = model.generate(input_ids, attention_mask=attention_mask, max_new_tokens=new_tokens,
                             min_new_tokens=new_tokens, do_sample=False, use_cache=True, pad_token_id=0)
        assert out.shape == (args.batch_size, args.prompt_length + new_tokens), out.shape
        return out

    generate(8)  # warm-up, untimed
    seconds, busy0, own0 = [], cpu_busy_s(), time.process_time()
    wall0 = time.perf_counter()
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        generate(args.new_tokens)
        seconds.append(time.perf_counter() - t0)
    wall = time.perf_counter() - wall0
    foreign = max(0.0, cpu_busy_s() - busy0 - (time.process_time() - own0))
    rates = [args.batch_size * args.new_tokens / s for s in seconds]
    print(json.dumps({
        "workload": "generate", "shape": args.shape, "n_params": n_params,
        "batch_size": args.batch_size, "prompt_length": args.prompt_length, "new_tokens": args.new_tokens,
        "tokens_per_s": statistics.median(rates), "tokens_per_s_all": rates,
        "seconds_median": statistics.median(seconds), "seconds_all": seconds,
        "torch": torch.__version__, "transformers": transformers.__version__, "threads": torch.get_num_threads(),
        "foreign_cpu_frac_of_machine": round(foreign / (wall * os.cpu_count()), 3)}))


if __name__ == "__main__":
    main()
