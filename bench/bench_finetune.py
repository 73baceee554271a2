"""Fine-tuning (issue 12): training tokens/s of a LoRA job, and the served fine-tune's tokens/s against the
base model (the same embedded llama.cpp runtime, the adapter applied with ``lora_path``).

Usage (from the repository root):

    PYTHONPATH=src python bench/bench_finetune.py [--steps 28] [--threads 2] [--decode 128] [--runs 3]

Trains on tests/finetune/zorbia.jsonl with the service's own trainer (auto hyperparameters unless
``--steps`` cuts the run), writes the adapter GGUF, then decodes ``--decode`` tokens greedily with the base
and with base + adapter, best of ``--runs``; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from valuechain.finetune.data import parse_examples, resolve_hyperparameters
from valuechain.finetune.training import Trainer
from valuechain.runtime.llamacpp import bundled_model_path

DATA = Path(__file__).resolve().parents[1] / "tests" / "finetune" / "zorbia.jsonl"
PROMPT = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]


def decode_rate(lora: Path | None, *, threads: int, tokens: int, runs: int) -> float:
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(bundled_model_path()),
        lora_path=str(lora) if lora else None,
        n_threads=threads,
        n_ctx=1024,
        verbose=False,
    )
    best = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        out = llm.create_chat_completion(PROMPT, max_tokens=tokens, temperature=0)
        elapsed = time.perf_counter() - started
        best = max(best, out["usage"]["completion_tokens"] / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--decode", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    examples = parse_examples(DATA.read_bytes())
    hp = resolve_hyperparameters({}, len(examples))
    started = time.perf_counter()
    trainer = Trainer(bundled_model_path(), threads=args.threads)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    result = trainer.train(examples, hp, seed=42, on_step=lambda p: args.steps is None or p.step < args.steps)
    train_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        adapter = Path(tmp) / "adapter.gguf"
        trainer.write_adapter(adapter, name="bench")
        size = adapter.stat().st_size
        base = decode_rate(None, threads=args.threads, tokens=args.decode, runs=args.runs)
        tuned = decode_rate(adapter, threads=args.threads, tokens=args.decode, runs=args.runs)
    print(
        json.dumps(
            {
                "examples": len(examples),
                "steps": result.steps,
                "batch_size": hp.batch_size,
                "tokens_processed": result.tokens,
                "load_s": round(load_s, 1),
                "train_s": round(train_s, 1),
                "train_tokens_per_s": round(result.tokens / train_s, 1),
                "s_per_step": round(train_s / result.steps, 2),
                "compute_flop": f"{result.compute_flop:.3e}",
                "adapter_bytes": size,
                "decode_tokens_per_s_base": round(base, 1),
                "decode_tokens_per_s_finetune": round(tuned, 1),
                "finetune_vs_base": round(tuned / base, 2),
                "threads": args.threads,
                "load_average": os.getloadavg()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
