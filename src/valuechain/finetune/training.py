"""LoRA training on CPU with torch + transformers + peft (the optional ``[train]`` extra).

The base is loaded from its GGUF, dequantized to float32 (transformers' ``gguf_file=`` loading); r=8 LoRA on
q/v; loss on the assistant's answer only. The order of examples is fixed by the seed, so a job resumed from a
checkpoint continues exactly where it stopped. Imports of torch & co. stay inside the functions: the API
server never loads them.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuechain.finetune.data import Example, Hyperparameters
from valuechain.finetune.lora_gguf import AdapterShape, write_lora_gguf

LORA_RANK, LORA_ALPHA, LORA_TARGETS = 8, 16, ("q_proj", "v_proj")
MAX_EXAMPLE_TOKENS = 512
#: FLOP of training, per parameter and token: 2 forward + 4 backward (Kaplan et al. 2020, "6·N·T")
COMPUTE_METHOD = "6 × parameters × tokens processed (forward + backward, Kaplan et al. 2020)"


@dataclass(slots=True)
class Progress:
    """Where a run is: reported after every step."""

    step: int
    total_steps: int
    epoch: int
    loss: float
    tokens: int  # tokens processed so far (non-padding, prompts included)
    step_tokens: int
    elapsed_s: float


@dataclass(slots=True)
class TrainResult:
    """A finished (or stopped) run."""

    steps: int
    tokens: int
    parameters: int
    trainable_parameters: int
    stopped: bool
    losses: list[float] = field(default_factory=list)

    @property
    def compute_flop(self) -> float:
        return 6.0 * self.parameters * self.tokens


@dataclass(slots=True)
class Checkpoint:
    """Adapter and optimizer state after ``step`` steps (torch-serialised bytes)."""

    step: int
    tokens: int
    loss: float
    payload: bytes


class Trainer:
    """One job's model: load, train (resumable), write the adapter."""

    def __init__(self, base_gguf: Path, *, threads: int | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        folder, name = str(base_gguf.parent), base_gguf.name
        self.tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        self.base_parameters = sum(p.numel() for p in model.parameters())
        config = model.config
        self.shape = AdapterShape(
            n_head=config.num_attention_heads,
            n_head_kv=getattr(config, "num_key_value_heads", None) or config.num_attention_heads,
            alpha=float(LORA_ALPHA),
        )
        self.model = _with_lora(model)

    def encode(self, example: Example) -> tuple[list[int], list[int]]:
        """Token ids and labels (-100 on everything but the last assistant message)."""
        messages = [{"role": r, "content": c} for r, c in example.messages]
        prompt = self._template(messages[:-1], generation_prompt=True)
        full = self._template(messages, generation_prompt=False)
        ids = full[:MAX_EXAMPLE_TOKENS]
        start = min(len(prompt), len(ids))
        return ids, [-100] * start + ids[start:]

    def _template(self, messages: list[dict[str, str]], *, generation_prompt: bool) -> list[int]:
        out = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=generation_prompt, tokenize=True, return_dict=False
        )
        if hasattr(out, "keys"):
            out = out["input_ids"]
        return list(out)

    def train(
        self,
        examples: list[Example],
        hp: Hyperparameters,
        *,
        seed: int,
        resume: Checkpoint | None = None,
        on_step: Callable[[Progress], bool] | None = None,
        checkpoint_every: int = 10,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> TrainResult:
        """Train; ``on_step`` returning False stops after that step (cancel within one step)."""
        import torch

        torch.manual_seed(seed)
        encoded = [self.encode(e) for e in examples]
        optimizer = torch.optim.AdamW(
            [p for p in self.model.parameters() if p.requires_grad], lr=hp.learning_rate
        )
        step, tokens = 0, 0
        if resume is not None:
            state = torch.load(io.BytesIO(resume.payload), weights_only=False)
            from peft import set_peft_model_state_dict

            set_peft_model_state_dict(self.model, state["adapter"])
            optimizer.load_state_dict(state["optimizer"])
            step, tokens = resume.step, resume.tokens
        batches = list(_batches(len(encoded), hp, seed))
        total, started = len(batches), time.perf_counter()
        result = TrainResult(
            steps=step,
            tokens=tokens,
            parameters=self.base_parameters,
            trainable_parameters=sum(p.numel() for p in self.model.parameters() if p.requires_grad),
            stopped=False,
        )
        self.model.train()
        for epoch, indices in batches[step:]:
            loss, step_tokens = self._step([encoded[i] for i in indices], optimizer)
            step += 1
            tokens += step_tokens
            result.steps, result.tokens = step, tokens
            result.losses.append(loss)
            if on_checkpoint is not None and (step % checkpoint_every == 0) and step < total:
                on_checkpoint(self.checkpoint(optimizer, step=step, tokens=tokens, loss=loss))
            progress = Progress(step, total, epoch, loss, tokens, step_tokens, time.perf_counter() - started)
            if on_step is not None and not on_step(progress) and step < total:
                result.stopped = True
                break
        return result

    def _step(self, batch: list[tuple[list[int], list[int]]], optimizer: Any) -> tuple[float, int]:
        import torch

        width = max(len(ids) for ids, _ in batch)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        out = self.model(input_ids=input_ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(out.loss.detach()), int(mask.sum())

    def checkpoint(self, optimizer: Any, *, step: int, tokens: int, loss: float) -> Checkpoint:
        import torch

        buffer = io.BytesIO()
        torch.save({"adapter": self.adapter_state(), "optimizer": optimizer.state_dict()}, buffer)
        return Checkpoint(step=step, tokens=tokens, loss=loss, payload=buffer.getvalue())

    def adapter_state(self) -> dict[str, Any]:
        """The LoRA tensors under PEFT's saved names (``…q_proj.lora_A.weight``, no adapter name)."""
        from peft import get_peft_model_state_dict

        return {k: v.detach().clone() for k, v in get_peft_model_state_dict(self.model).items()}

    def write_adapter(self, path: Path, *, name: str) -> None:
        """The adapter as a llama.cpp LoRA GGUF (served on the unchanged base; never merged and re-quantized:
        measured, a 4-bit re-quantization loses the fine-tune)."""
        write_lora_gguf(path, self.adapter_state(), self.shape, name=name)


def _with_lora(model: Any) -> Any:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=LORA_RANK, lora_alpha=LORA_ALPHA, target_modules=list(LORA_TARGETS), lora_dropout=0.0, bias="none"
    )
    return get_peft_model(model, config)


def _batches(n: int, hp: Hyperparameters, seed: int) -> list[tuple[int, list[int]]]:
    """Every step's (epoch, example indices), shuffled per epoch by the seed: the same order on resume."""
    out: list[tuple[int, list[int]]] = []
    for epoch in range(hp.n_epochs):
        order = list(range(n))
        random.Random(seed * 1000 + epoch).shuffle(order)
        out += [(epoch + 1, order[i : i + hp.batch_size]) for i in range(0, n, hp.batch_size)]
    return out
