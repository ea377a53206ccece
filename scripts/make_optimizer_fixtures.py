#!/usr/bin/env python3
"""Writes Tests/TensorTests/Fixtures/optim/optimizers.json: torch's answers for the optimizer tests.

Dev-only: the Swift tests read the committed JSON and never run Python. Regenerate it after changing
this script:

    python3 -m venv .venv && .venv/bin/pip install torch      # transformers optional, see below
    .venv/bin/python scripts/make_optimizer_fixtures.py       # from the repository root

What it records, for two float32 parameters ("weight" [2, 3] with weight decay, "bias" [3] in a
param group without it, as Hugging Face's Trainer groups them) and three fixed gradients per step:
  - torch.optim.AdamW(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1): values after each step,
    and again with "bias" getting no gradient at step 1 (torch keeps a step count per parameter);
  - torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.01), and the same without momentum;
  - torch.nn.utils.clip_grad_norm_ with a norm that clips and one that does not: total norm and gradients;
  - the learning-rate multipliers of transformers' get_{cosine,linear,constant}_schedule_with_warmup
    (taken from transformers when it is installed, else from the same formulas written out here).
"""

import json
import math
from pathlib import Path

import torch

OUTPUT = Path(__file__).resolve().parent.parent / "Tests/TensorTests/Fixtures/optim/optimizers.json"
SHAPES = {"weight": [2, 3], "bias": [3]}
STEPS = 3


def floats(t):
    """Exact float32 values as Python floats (JSON round-trips them bit for bit through Float)."""
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def make_parameters(initial):
    return {name: torch.tensor(values, dtype=torch.float32).reshape(SHAPES[name]).requires_grad_()
            for name, values in initial.items()}


def param_groups(params, weight_decay):
    return [{"params": [params["weight"]], "weight_decay": weight_decay},
            {"params": [params["bias"]], "weight_decay": 0.0}]


def run_optimizer(initial, gradients, make):
    params = make_parameters(initial)
    optimizer = make(params)
    history = []
    for step_grads in gradients:
        for name, p in params.items():
            # A parameter missing from a step has no gradient then (torch skips it and keeps its state).
            p.grad = torch.tensor(step_grads[name], dtype=torch.float32).reshape(SHAPES[name]) if name in step_grads else None
        optimizer.step()
        history.append({name: floats(p) for name, p in params.items()})
    return history


def clip_case(initial, grads, max_norm):
    params = make_parameters(initial)
    for name, p in params.items():
        p.grad = torch.tensor(grads[name], dtype=torch.float32).reshape(SHAPES[name])
    total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
    return {"max_norm": max_norm, "gradients": grads, "total_norm": float(total),
            "clipped": {name: floats(p.grad) for name, p in params.items()}}


def schedule_multipliers(kind, warmup, total, steps):
    """lr_lambda(step) for steps 0..<steps, as transformers computes it."""
    try:
        import transformers
        dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        if kind == "cosine":
            scheduler = transformers.get_cosine_schedule_with_warmup(dummy, warmup, total)
        elif kind == "linear":
            scheduler = transformers.get_linear_schedule_with_warmup(dummy, warmup, total)
        else:
            scheduler = transformers.get_constant_schedule_with_warmup(dummy, warmup)
        return [float(scheduler.lr_lambdas[0](s)) for s in range(steps)], "transformers " + transformers.__version__
    except ImportError:
        def multiplier(s):
            if s < warmup:
                return s / max(1, warmup)
            if kind == "cosine":
                progress = (s - warmup) / max(1, total - warmup)
                return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
            if kind == "linear":
                return max(0.0, (total - s) / max(1, total - warmup))
            return 1.0
        return [multiplier(s) for s in range(steps)], "formula"


def main():
    torch.manual_seed(0)
    initial = {name: floats(torch.randn(shape)) for name, shape in SHAPES.items()}
    # Step 2 flips some signs and step 3 is small, so the moments do not all move together.
    scales = [1.0, -0.5, 0.1]
    gradients = [{name: floats(scale * torch.randn(shape)) for name, shape in SHAPES.items()} for scale in scales]

    adamw = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}
    sgd = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}
    sgd_plain = {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.01}

    adamw["steps"] = run_optimizer(initial, gradients, lambda p: torch.optim.AdamW(
        param_groups(p, adamw["weight_decay"]), lr=adamw["lr"], betas=(adamw["beta1"], adamw["beta2"]), eps=adamw["eps"]))
    for config in (sgd, sgd_plain):
        config["steps"] = run_optimizer(initial, gradients, lambda p, c=config: torch.optim.SGD(
            param_groups(p, c["weight_decay"]), lr=c["lr"], momentum=c["momentum"]))

    # "bias" gets its first gradient at step 2: torch counts steps (and bias corrections) per parameter.
    late_gradients = [{"weight": gradients[0]["weight"]}] + gradients[1:]
    adamw_late_start = dict(adamw, steps=run_optimizer(initial, late_gradients, lambda p: torch.optim.AdamW(
        param_groups(p, adamw["weight_decay"]), lr=adamw["lr"], betas=(adamw["beta1"], adamw["beta2"]), eps=adamw["eps"])))
    adamw_late_start["gradients"] = late_gradients

    clips = [clip_case(initial, gradients[0], 1.0), clip_case(initial, gradients[0], 100.0)]

    schedules = []
    source = "formula"
    for kind, warmup, total in [("cosine", 3, 10), ("linear", 3, 10), ("constant", 3, 10), ("cosine", 0, 7)]:
        multipliers, source = schedule_multipliers(kind, warmup, total, total + 2)
        schedules.append({"kind": kind, "warmup": warmup, "total": total, "multipliers": multipliers})

    fixture = {
        "generator": "scripts/make_optimizer_fixtures.py",
        "torch_version": torch.__version__,
        "schedule_source": source,
        "shapes": SHAPES,
        "initial": initial,
        "gradients": gradients,
        "adamw": adamw,
        "adamw_late_start": adamw_late_start,
        "sgd": sgd,
        "sgd_plain": sgd_plain,
        "clip": clips,
        "schedules": schedules,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
