"""RLHFKit against TRL on a peer workload, side by side in one run (dev-only).

    PEERS=/work/peers python3 bench/compare.py sft|reward|dpo|grpo [--rounds 3]

Runs, alternately and `--rounds` times each, TRL's `$PEERS/bench/bench_<workload>.py` (see ../shared/peers/README.md
for the venv) and `.build/release/rlhf bench <workload> --json` (the same workload), and prints one markdown table:
tokens/s (median with the range), s/step, peak RSS of each process, and the ratio. Both count tokens as the peer
does and leave out 2 warm-up steps:
- sft: TRL 1.16 SFTTrainer, GPT-2 4 x 256, vocab 8000, batch 8 x 128 tokens, AdamW lr 1e-4 constant, gradient-norm
  clip 1; `rlhf bench train --preset peer` (SFTTrainer + the shared loop on random tokens of the same shape); tokens =
  the 1,024 tokens of a step.
- reward: TRL 1.16 RewardTrainer, the same GPT-2 with a scalar head, 8 pairs of ~60 + ~60 tokens (+EOS) per step,
  Bradley-Terry loss; `rlhf bench reward`; tokens = chosen + rejected tokens of a step.
- dpo: TRL 1.16 DPOTrainer, GPT-2 4 x 256, vocab 8000, 8 pairs of ~60 + ~60 tokens per step, a separate reference
  model scored every step; tokens = the policy's non-padding tokens per optimizer step.
- grpo: TRL 1.16 GRPOTrainer, the same GPT-2, 2 prompts x 4 completions of 64 + 64 tokens per step, beta 0.04 with a
  reference model, a GPT-2 reward model; tokens = prompt + completion tokens of the loss batch over the whole step
  (sampling and the reference and reward forwards included).
Build RLHFKit first: `RLHFKIT_DEVELOPMENT=1 swift build -c release --product rlhf`.
"""
import argparse, json, os, platform, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER_NAMES = {"sft": "TRL 1.16 SFTTrainer", "reward": "TRL 1.16 RewardTrainer", "dpo": "TRL 1.16 DPOTrainer", "grpo": "TRL 1.16 GRPOTrainer"}
# Our side of each workload: `rlhf bench` arguments (the SFT workload is `bench train`'s peer preset).
OURS = {"sft": ["train", "--preset", "peer"], "reward": ["reward"], "dpo": ["dpo"], "grpo": ["grpo"]}


def peak_rss_mb(command, env=None, result_file=None):
    """Runs `command` under GNU time (Debian's `time` package) to read its own peak RSS; returns its JSON result
    (stdout, or `result_file` when the command writes it there) and that peak in MB."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    rss_kb = int(result.stderr.strip().splitlines()[-1])
    output = open(result_file).read() if result_file else result.stdout
    return json.loads(output), rss_kb / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=sorted(PEER_NAMES))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    peers = os.environ.get("PEERS") or sys.exit("set PEERS to the folder holding venv/, fixtures/ and bench/")
    peer_env = dict(os.environ, PEERS=peers, HF_HUB_OFFLINE="1")
    peer = [os.path.join(peers, "venv/bin/python"), os.path.join(peers, f"bench/bench_{args.workload}.py")]
    ours = [os.path.join(ROOT, ".build/release/rlhf"), "bench"] + OURS[args.workload] + ["--json"]
    if args.workload == "grpo":
        ours += ["--tokenizer", os.path.join(peers, "fixtures/tokenizer-8000")]
    results = {"trl": [], "rlhfkit": []}
    for round_ in range(args.rounds):
        for name, command, env, file in (("trl", peer, peer_env, os.path.join(peers, f"bench/out/{args.workload}.json")),
                                         ("rlhfkit", ours, None, None)):
            output, rss = peak_rss_mb(command, env, file)
            tokens = output["tokens_per_s"] if name == "trl" else output["tokens_per_second"]
            step = output["s_per_step_median"] if name == "trl" else output["seconds_per_step"]
            results[name].append((tokens, step, rss))
            print(f"round {round_ + 1} {name}: {tokens:.0f} tokens/s, {step:.3f} s/step, peak RSS {rss:.0f} MB", file=sys.stderr)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print(f"\n{args.workload.upper()}, peer workload, {args.rounds} alternating runs each, {cpu}, {os.cpu_count()} cores\n")
    print("| side | tokens/s median [range] | s/step median | peak RSS MB median |")
    print("|---|---|---|---|")
    medians = {}
    for name in ("trl", "rlhfkit"):
        tokens = [r[0] for r in results[name]]
        medians[name] = statistics.median(tokens)
        label = PEER_NAMES[args.workload] if name == "trl" else "RLHFKit rlhf bench " + " ".join(OURS[args.workload])
        print(f"| {label} | {medians[name]:.0f} [{min(tokens):.0f}-{max(tokens):.0f}] | "
              f"{statistics.median(r[1] for r in results[name]):.3f} | {statistics.median(r[2] for r in results[name]):.0f} |")
    print(f"\nratio (RLHFKit / TRL tokens/s): {medians['rlhfkit'] / medians['trl']:.2f}x")


if __name__ == "__main__":
    main()
