"""Peer counterpart of SFT on a Qwen2-0.5B-shaped model (dev-only; imports nothing from RLHFKit): TRL 1.16 SFTTrainer.

Measures: wall time of each optimizer step of `trl.SFTTrainer.train()` (on_step_begin -> on_step_end callback, as
$PEERS/bench/bench_sft.py does), on a Qwen2ForCausalLM randomly initialised (torch.manual_seed(0)) with Qwen2-0.5B's
config (hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864, vocab 151936, tied embeddings, rope_theta
1e6; 494 M parameters), float32, CPU, 2 threads. Batch 4 x 128 tokens: corpus texts ($PEERS/fixtures/corpus.txt)
truncated to exactly 128 tokens of $PEERS/fixtures/tokenizer-8000 (ids < 8000 fit the larger vocabulary). AdamW,
lr 1e-4 constant, gradient-norm clip 1 (the Trainer default), no packing, no padding-free.
`--lora-rank 0` (default): full fine-tuning; R > 0: peft LoRA r=R, alpha=2R, dropout 0 on q_proj and v_proj.
The first 2 steps are warm-up and left out: tokens_per_s = non-pad tokens (attention mask) of the remaining steps
divided by their summed step time; s_per_step_median over the same steps. Before training it waits (at most
--max-wait-idle s) for other processes to use < 10% of the machine, and it reports their CPU share during train().

    PEERS=/work/peers $PEERS/venv/bin/python bench/peer_qwen2_sft.py [--steps 6] [--lora-rank 0]

Full fine-tuning needs ~8 GB for weights, gradients and AdamW state plus activations. Prints one JSON object on
stdout (the Trainer's own log lines go to stderr).
"""
import argparse, contextlib, json, os, resource, statistics, sys, time

for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"),
                   ("TOKENIZERS_PARALLELISM", "false"), ("HF_HUB_DISABLE_TELEMETRY", "1")):
    os.environ.setdefault(key, value)

import torch
import transformers
import trl
from datasets import Dataset
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM, TrainerCallback
from trl import SFTConfig, SFTTrainer

WARMUP_STEPS = 2
BATCH, SEQ = 4, 128


def cpu_busy_s():
    """Machine-wide busy CPU seconds (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def own_cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def wait_idle(max_wait_s, threshold=0.10, consecutive=3):
    """Wait until other processes use < threshold of the machine for `consecutive` 1-second samples."""
    ok, start = 0, time.time()
    while ok < consecutive and time.time() - start < max_wait_s:
        b0, o0, t0 = cpu_busy_s(), own_cpu_s(), time.perf_counter()
        time.sleep(1.0)
        frac = (cpu_busy_s() - b0 - (own_cpu_s() - o0)) / ((time.perf_counter() - t0) * os.cpu_count())
        ok = ok + 1 if frac < threshold else 0
    return time.time() - start


class StepTimer(TrainerCallback):
    """Wall time of each optimizer step, and other processes' CPU time over train()."""

    def __init__(self):
        self.t0, self.durations = None, []

    def on_train_begin(self, args, state, control, **kw):
        self.busy0, self.own0, self.wall0 = cpu_busy_s(), own_cpu_s(), time.perf_counter()

    def on_train_end(self, args, state, control, **kw):
        wall = time.perf_counter() - self.wall0
        self.foreign = max(0.0, cpu_busy_s() - self.busy0 - (own_cpu_s() - self.own0)) / (wall * os.cpu_count())

    def on_step_begin(self, args, state, control, **kw):
        self.t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        if self.t0 is not None:
            self.durations.append(time.perf_counter() - self.t0)
        self.t0 = None


class Trainer(SFTTrainer):
    """Counts the non-pad tokens (attention mask) of every batch given to training_step."""

    def training_step(self, model, inputs, *args, **kwargs):
        mask, ids = inputs.get("attention_mask"), inputs["input_ids"]
        self.tokens = getattr(self, "tokens", []) + [int(mask.sum()) if mask is not None else ids.numel()]
        self.shapes = getattr(self, "shapes", set()) | {tuple(ids.shape)}
        return super().training_step(model, inputs, *args, **kwargs)


def qwen2_05b(tok):
    torch.manual_seed(0)
    config = Qwen2Config(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True, rope_theta=1e6,
                         max_position_embeddings=32768, rms_norm_eps=1e-6, hidden_act="silu",
                         use_sliding_window=False, attention_dropout=0.0, bos_token_id=tok.eos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return Qwen2ForCausalLM(config).float()


def corpus_texts(tok, n, chunk_tokens):
    """n decoded pieces of the corpus, chunk_tokens tokens each (longer than SEQ, so truncation makes them SEQ)."""
    with open(os.path.join(os.environ["PEERS"], "fixtures", "corpus.txt"), encoding="utf-8") as f:
        ids = tok(f.read(), add_special_tokens=False)["input_ids"]
    out, pos = [], 0
    for _ in range(n):
        if pos + chunk_tokens > len(ids):
            pos = 0
        out.append(tok.decode(ids[pos:pos + chunk_tokens]))
        pos += chunk_tokens
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--lora-rank", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-wait-idle", type=float, default=900)
    args = parser.parse_args()
    peers = os.environ.get("PEERS") or sys.exit("set PEERS to the folder holding venv/ and fixtures/")
    torch.set_num_threads(args.threads)

    tok = AutoTokenizer.from_pretrained(os.path.join(peers, "fixtures", "tokenizer-8000"))
    ds = Dataset.from_dict({"text": corpus_texts(tok, args.steps * BATCH + 16, SEQ + 32)})
    out_dir = os.path.join(peers, "bench", "out", "tmp-qwen2-sft")
    sft_args = SFTConfig(
        # the peer's common_args()
        output_dir=out_dir, use_cpu=True, bf16=False, fp16=False, report_to="none", save_strategy="no",
        logging_steps=10 ** 6, disable_tqdm=True, dataloader_num_workers=0, seed=0, learning_rate=1e-4,
        lr_scheduler_type="constant", warmup_steps=0, gradient_checkpointing=False, eval_strategy="no",
        # bench_sft.py's SFT settings
        max_steps=args.steps, per_device_train_batch_size=BATCH, max_length=SEQ, packing=False, padding_free=False,
        dataset_text_field="text", shuffle_dataset=False)
    peft_config = None
    if args.lora_rank > 0:
        from peft import LoraConfig
        peft_config = LoraConfig(r=args.lora_rank, lora_alpha=2 * args.lora_rank, lora_dropout=0.0,
                                 target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    model = qwen2_05b(tok)
    n_params = sum(p.numel() for p in model.parameters())
    timer = StepTimer()
    with contextlib.redirect_stdout(sys.stderr):  # the Trainer prints its summary dict on stdout
        trainer = Trainer(model=model, args=sft_args, train_dataset=ds, processing_class=tok, callbacks=[timer],
                          peft_config=peft_config)
        trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        waited = wait_idle(args.max_wait_idle)
        t0 = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - t0

    durations = timer.durations
    warm = WARMUP_STEPS if len(durations) > WARMUP_STEPS else 0
    steady, steady_tokens = durations[warm:], trainer.tokens[warm:len(durations)]
    print(json.dumps({
        "workload": "qwen2-0.5b-sft", "trainer": "trl.SFTTrainer", "lora_rank": args.lora_rank,
        "n_params": n_params, "trainable_params": trainable, "batch": BATCH, "seq": SEQ,
        "batch_shapes": sorted(map(str, trainer.shapes)),
        "steps": len(durations), "warmup_steps_excluded": warm,
        "tokens_per_s": sum(steady_tokens) / sum(steady), "tokens_per_step_mean": statistics.mean(steady_tokens),
        "s_per_step_median": statistics.median(steady), "s_per_step_mean": statistics.mean(steady),
        "s_per_step_first": durations[0], "step_durations_s": [round(d, 4) for d in durations],
        "total_train_wall_s": wall, "waited_for_idle_s": round(waited, 1),
        "foreign_cpu_frac_of_machine": round(timer.foreign, 3),
        "torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
        "threads": torch.get_num_threads(),
        "tokens_note": "non-pad tokens in input_ids per optimizer step (fwd+bwd), as bench_sft.py"}))


if __name__ == "__main__":
    main()
