"""Pure helpers of the embedded adapter: logprob math and OpenAI shape conversion (no engine state)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

JsonDict = dict[str, Any]


def log_softmax(row: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax of one logits row."""
    shifted = row - row.max()
    return shifted - math.log(float(np.exp(shifted).sum()))


def prompt_logprobs(
    tokens: Sequence[int],
    scores: np.ndarray,
    *,
    top_k: int,
    piece: Callable[[int], str],
) -> tuple[list[float | None], list[dict[str, float] | None]]:
    """Logprob of each prompt token given the tokens before it; the first one is null (OpenAI's echo rule).

    ``scores[i]`` are the logits after token ``i``, i.e. the distribution of token ``i + 1``.
    """
    token_logprobs: list[float | None] = [None]
    top_logprobs: list[dict[str, float] | None] = [None]
    for i in range(1, len(tokens)):
        lp = log_softmax(scores[i - 1])
        token_logprobs.append(float(lp[tokens[i]]))
        top: dict[str, float] = {}
        if top_k > 0:
            for t in np.argpartition(-lp, top_k)[:top_k]:
                top[piece(int(t))] = float(lp[t])
        top[piece(tokens[i])] = float(lp[tokens[i]])
        top_logprobs.append(top)
    return token_logprobs, top_logprobs


def text_offsets(pieces: Sequence[str], start: int = 0) -> list[int]:
    """Character offset of each token piece in the concatenated text."""
    offsets, pos = [], start
    for p in pieces:
        offsets.append(pos)
        pos += len(p)
    return offsets


def completion_logprobs_to_chat(logprobs: JsonDict | None, *, top_n: int) -> JsonDict | None:
    """Convert legacy completion logprobs to the chat ``logprobs.content`` shape."""
    if not logprobs:
        return None
    content = []
    for token, lp, top in zip(
        logprobs.get("tokens") or [],
        logprobs.get("token_logprobs") or [],
        logprobs.get("top_logprobs") or [],
        strict=False,
    ):
        tops = sorted((top or {}).items(), key=lambda kv: -kv[1])[:top_n]
        content.append(
            {
                "token": token,
                "logprob": lp if lp is not None else 0.0,
                "bytes": list(token.encode("utf-8")),
                "top_logprobs": [
                    {"token": t, "logprob": v, "bytes": list(t.encode("utf-8"))} for t, v in tops
                ],
            }
        )
    return {"content": content, "refusal": None}


def chat_response(
    *, request_id: str, model: str, choices: list[JsonDict], usage: JsonDict, fingerprint: str
) -> JsonDict:
    """A ``chat.completion`` object."""
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage,
        "system_fingerprint": fingerprint,
    }


def chat_choice(
    *,
    index: int,
    text: str | None,
    finish_reason: str,
    logprobs: JsonDict | None,
    tool_calls: list[JsonDict] | None = None,
) -> JsonDict:
    """One chat choice (with ``tool_calls`` and no content when the model called tools)."""
    message: JsonDict = {"role": "assistant", "content": text, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"index": index, "message": message, "logprobs": logprobs, "finish_reason": finish_reason}


def chat_chunks_of(choices: list[JsonDict]) -> list[JsonDict]:
    """Stream choices of whole chat choices: the message (text or tool calls) in one delta, then the end."""
    out = []
    for c in choices:
        message, delta = c["message"], {"role": "assistant", "content": c["message"]["content"]}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": j, **call} for j, call in enumerate(message["tool_calls"])]
        out.append({"index": c["index"], "delta": delta, "logprobs": c["logprobs"], "finish_reason": None})
        out.append({"index": c["index"], "delta": {}, "logprobs": None, "finish_reason": c["finish_reason"]})
    return out


def chat_chunk(
    *,
    request_id: str,
    model: str,
    created: int,
    fingerprint: str,
    choices: list[JsonDict],
    usage: JsonDict | None = None,
) -> JsonDict:
    """A ``chat.completion.chunk`` object."""
    return {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": fingerprint,
        "choices": choices,
        "usage": usage,
    }


def completion_chunk(
    *, request_id: str, model: str, created: int, choices: list[JsonDict], usage: JsonDict | None = None
) -> JsonDict:
    """A streamed ``text_completion`` object (``usage`` only on the chunk that has it: the spec does not
    let it be null)."""
    chunk = {
        "id": request_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def plain(value: Any) -> Any:
    """Nested logprob structures with numpy scalars turned into Python floats (JSON-serialisable)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, np.floating):
        return float(value)
    return value
