"""RLHFKit against TRL / transformers, stage by stage, side by side in one run (dev-only).

    PEERS=/work/peers python3 bench/compare.py [WORKLOAD ...] [--rounds 3]     # no workload: all of them

Runs, alternately and `--rounds` times each, the peer's script and `.build/release/rlhf bench ... --json` on the same
workload, and prints one markdown table: tokens/s (median with the range), the ratio, and each process's peak RSS
(GNU time). `$PEERS` holds the venv, fixtures and bench/ copy that ../shared/peers/INSTALL.md sets up, and
`$PEERS/trl-1.12.0-ppo` (TRL 1.12, the last release with PPO) for the PPO row. Workloads:
- sft, reward, dpo, ppo, grpo: ../shared/peers/bench/bench_<name>.py (GPT-2 4 x 256, vocab 8000, 2 threads) against
  `rlhf bench train --preset peer | reward | dpo | ppo | grpo`; both count tokens as the peer does (see each bench's
  --help) and leave out the peer's warm-up steps.
- generate-1, generate-8, generate-32: transformers' `generate` (bench/peer_generate.py: greedy, KV cache, 32 prompt
  tokens, 256 new tokens for every row) against `rlhf bench generate --preset peer --batch-size N`, the same GPT-2
  with 512 positions.
- qwen2-sft, qwen2-lora: TRL's SFTTrainer (bench/peer_qwen2_sft.py) on a random Qwen2-0.5B-layout model, batch
  4 x 128, full and LoRA rank 8 on q/v, 3 timed steps after 2 warm-up steps, against `rlhf bench train --preset qwen2-0.5b [--lora-rank 8]`.
- qwen2-generate-8: the same model, 8 rows x 64 new tokens.
Build RLHFKit first: `RLHFKIT_DEVELOPMENT=1 swift build -c release --product rlhf`.
"""
import argparse, json, os, platform, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "bench")


def workloads(peers):
    """name -> (peer label, peer command, peer env extras, peer result file or None for stdout, our `rlhf bench` args)."""
    tokenizer = os.path.join(peers, "fixtures/tokenizer-8000")
    python = os.path.join(peers, "venv/bin/python")
    trl_bench = lambda name: [python, os.path.join(peers, f"bench/bench_{name}.py")]
    out_file = lambda name: os.path.join(peers, f"bench/out/{name}.json")
    table = {
        "sft": ("TRL 1.16 SFTTrainer", trl_bench("sft"), {}, out_file("sft"), ["train", "--preset", "peer"]),
        "reward": ("TRL 1.16 RewardTrainer", trl_bench("reward"), {}, out_file("reward"), ["reward"]),
        "dpo": ("TRL 1.16 DPOTrainer", trl_bench("dpo"), {}, out_file("dpo"), ["dpo"]),
        "ppo": ("TRL 1.12 PPOTrainer", trl_bench("ppo"), {"PYTHONPATH": os.path.join(peers, "trl-1.12.0-ppo")}, out_file("ppo"),
                ["ppo", "--tokenizer", tokenizer]),
        "grpo": ("TRL 1.16 GRPOTrainer", trl_bench("grpo"), {}, out_file("grpo"), ["grpo", "--tokenizer", tokenizer]),
        "qwen2-sft": ("TRL 1.16 SFTTrainer", [python, os.path.join(HERE, "peer_qwen2_sft.py"), "--steps", "5"], {}, None,
                      ["train", "--preset", "qwen2-0.5b", "--steps", "3"]),
        "qwen2-lora": ("TRL 1.16 SFTTrainer + PEFT", [python, os.path.join(HERE, "peer_qwen2_sft.py"), "--steps", "5", "--lora-rank", "8"],
                       {}, None, ["train", "--preset", "qwen2-0.5b", "--steps", "3", "--lora-rank", "8"]),
        "qwen2-generate-8": ("transformers generate", [python, os.path.join(HERE, "peer_generate.py"), "--shape", "qwen2-0.5b",
                                                       "--batch-size", "8", "--new-tokens", "64"], {}, None,
                             ["generate", "--preset", "qwen2-0.5b", "--batch-size", "8", "--new-tokens", "64"]),
    }
    for rows in (1, 8, 32):
        table[f"generate-{rows}"] = ("transformers generate", [python, os.path.join(HERE, "peer_generate.py"), "--batch-size", str(rows)],
                                     {}, None, ["generate", "--preset", "peer", "--batch-size", str(rows)])
    return table


def run_measured(command, env, result_file):
    """Runs `command` under GNU time (Debian's `time` package) for its peak RSS; returns its JSON result (stdout, or
    `result_file` when it writes one there) and that peak in MB."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    rss_kb = int(result.stderr.strip().splitlines()[-1])
    output = open(result_file).read() if result_file else result.stdout
    return json.loads(output), rss_kb / 1024


def tokens_per_second(output):
    return output.get("tokens_per_s", output.get("tokens_per_second"))


def main():
    peers = os.environ.get("PEERS") or sys.exit("set PEERS to the folder holding venv/, fixtures/ and bench/")
    table = workloads(peers)
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", nargs="*", help=f"any of {', '.join(table)} (default: all)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    names = args.workload or list(table)
    if unknown := [n for n in names if n not in table]:
        parser.error(f"unknown workload {', '.join(unknown)}")
    rows = []
    for name in names:
        label, peer, extra_env, result_file, ours = table[name]
        peer_env = dict(os.environ, PEERS=peers, HF_HUB_OFFLINE="1", **extra_env)
        ours = [os.path.join(ROOT, ".build/release/rlhf"), "bench"] + ours + ["--json"]
        results = {"peer": [], "rlhfkit": []}
        for round_ in range(args.rounds):
            for side, command, env, file in (("peer", peer, peer_env, result_file), ("rlhfkit", ours, None, None)):
                output, rss = run_measured(command, env, file)
                results[side].append((tokens_per_second(output), rss))
                print(f"{name} round {round_ + 1} {side}: {results[side][-1][0]:.0f} tokens/s, peak RSS {rss:.0f} MB", file=sys.stderr)
        rows.append((name, label, results))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print(f"\n{args.rounds} alternating runs each, {cpu}, {os.cpu_count()} cores\n")
    print("| workload | peer | peer tokens/s median [range] | RLHFKit tokens/s median [range] | ratio | peak RSS MB peer / RLHFKit |")
    print("|---|---|---|---|---|---|")
    for name, label, results in rows:
        cells, medians = [], {}
        for side in ("peer", "rlhfkit"):
            rates = [r[0] for r in results[side]]
            medians[side] = statistics.median(rates)
            cells.append(f"{medians[side]:.0f} [{min(rates):.0f}-{max(rates):.0f}]")
        rss = "/".join(f"{statistics.median(r[1] for r in results[side]):.0f}" for side in ("peer", "rlhfkit"))
        print(f"| {name} | {label} | {cells[0]} | {cells[1]} | {medians['rlhfkit'] / medians['peer']:.2f}x | {rss} |")


if __name__ == "__main__":
    main()
