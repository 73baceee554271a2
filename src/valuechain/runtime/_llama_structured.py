"""Structured outputs and tool calls for the embedded adapter (OpenAI's ``response_format`` and ``tools``).

Both are served by grammar-constrained decoding: JSON Schema → llama.cpp grammar (llama-cpp-python's port of
llama.cpp's ``json_schema_to_grammar``), so a finished answer always parses and matches its schema. A
request without them builds nothing here (``decoding_plan`` returns None at the first look).
Tool calls are decoded as a JSON array ``[{"name": ..., "arguments": {...}}]`` whose items match the named
function's ``parameters``; with ``tool_choice: "auto"`` the grammar also allows a plain-text answer that does
not start with ``[``.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from valuechain.runtime.base import BackendRequestError, JsonDict

#: parallel calls in one answer (OpenAI sets no number; a small model must not loop on calls forever)
MAX_PARALLEL_CALLS = 4
_ANY_OBJECT: JsonDict = {"type": "object"}
_FREE_TEXT = r"""free-text ::= [^\[\x00-\x20] [^\x00]*"""


@dataclass(frozen=True)
class DecodingPlan:
    """How one chat request is decoded: under which grammar, and whether its answer may be tool calls."""

    grammar: Any  # llama_cpp.LlamaGrammar
    tool_note: str | None = None  # a system message describing the tools
    calls_tools: bool = False


def decoding_plan(body: JsonDict) -> DecodingPlan | None:
    """The grammar a chat request asks for, or None for free text (the common, zero-cost case)."""
    tools, response_format = body.get("tools"), body.get("response_format")
    if tools and body.get("tool_choice") != "none":
        return _tool_plan(
            tools, body.get("tool_choice") or "auto", body.get("parallel_tool_calls") is not False
        )
    if not response_format or response_format.get("type") == "text":
        return None
    if response_format.get("type") == "json_object":
        return DecodingPlan(grammar=_grammar(_canonical(_ANY_OBJECT)))
    schema = response_format.get("json_schema", {}).get("schema") or _ANY_OBJECT
    return DecodingPlan(grammar=_grammar(_canonical(schema), param="response_format.json_schema.schema"))


def _tool_plan(tools: list[JsonDict], choice: str | JsonDict, parallel: bool) -> DecodingPlan:
    functions = [t["function"] for t in tools]
    if isinstance(choice, dict):
        functions = [f for f in functions if f["name"] == choice["function"]["name"]]
    calls = [
        {
            "type": "object",
            "properties": {"name": {"const": f["name"]}, "arguments": f.get("parameters") or _ANY_OBJECT},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for f in functions
    ]
    schema = {
        "type": "array",
        "items": calls[0] if len(calls) == 1 else {"anyOf": calls},
        "minItems": 1,
        "maxItems": MAX_PARALLEL_CALLS if parallel else 1,
    }
    optional = choice == "auto"
    grammar = _grammar(_canonical(schema), param="tools", free_text=optional)
    return DecodingPlan(grammar=grammar, tool_note=_tool_note(functions, optional=optional), calls_tools=True)


def _tool_note(functions: list[JsonDict], *, optional: bool) -> str:
    listed = "\n".join(
        json.dumps({k: f[k] for k in ("name", "description", "parameters") if f.get(k) is not None})
        for f in functions
    )
    how = 'To call functions, answer with only a JSON array: [{"name": <function name>, "arguments": {...}}].'
    when = " If no function fits, answer in plain text instead." if optional else ""
    return f"You can call these functions:\n{listed}\n{how}{when}"


def _canonical(schema: JsonDict) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=64)
def _grammar(schema_json: str, *, param: str = "response_format", free_text: bool = False) -> Any:
    """The llama.cpp grammar of a JSON Schema (cached: clients send the same schema request after request)."""
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    try:
        text = json_schema_to_gbnf(schema_json)
    except Exception as exc:  # the converter raises plain errors on schemas it cannot express
        raise BackendRequestError(f"{param}: this JSON Schema cannot be enforced ({exc})") from exc
    if free_text:
        text = re.sub(r"^root ::=", "tool-calls ::=", text, count=1, flags=re.MULTILINE)
        text = f"root ::= tool-calls | free-text\n{_FREE_TEXT}\n{text}"
    return LlamaGrammar.from_string(text, verbose=False)


def check_grammar(grammar: Any, vocab: Any) -> None:
    """Parse a grammar once before decoding with it: llama.cpp crashes the process on one it cannot parse
    (a 400 for the request instead of a dead server)."""
    if getattr(grammar, "checked", False):
        return
    import llama_cpp

    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar._grammar.encode(), grammar._root.encode())
    if not sampler:
        raise BackendRequestError("this schema's grammar does not parse; simplify the JSON Schema")
    llama_cpp.llama_sampler_free(sampler)
    grammar.checked = True


def prompt_messages(messages: list[JsonDict], tool_note: str | None) -> list[JsonDict]:
    """Messages as plain role/content pairs for a chat template: tool calls and tool results as text."""
    plain = []
    for m in messages:
        content = _text(m.get("content"))
        if m.get("tool_calls"):
            calls = [
                {"name": c["function"]["name"], "arguments": _loads(c["function"]["arguments"])}
                for c in m["tool_calls"]
            ]
            content = (content + "\n" if content else "") + json.dumps(calls)
        plain.append({"role": m["role"], "content": content})
    if tool_note:
        if plain and plain[0]["role"] in ("system", "developer"):
            plain[0] = {"role": plain[0]["role"], "content": f"{plain[0]['content']}\n\n{tool_note}"}
        else:
            plain.insert(0, {"role": "system", "content": tool_note})
    return plain


def tool_calls_of(text: str) -> list[JsonDict] | None:
    """OpenAI ``tool_calls`` of a decoded answer, or None when it is text (or no call was finished).

    An answer cut by ``max_tokens`` keeps the calls finished before the cut (each one is whole and matches
    its schema); a call repeated word for word is kept once (small models repeat a call until cut off).
    """
    start = text.lstrip()
    if not start.startswith("["):
        return None
    decoder, pos, calls = json.JSONDecoder(), 1, []
    while True:
        while pos < len(start) and start[pos] in " \t\n,":
            pos += 1
        try:
            call, pos = decoder.raw_decode(start, pos)
        except json.JSONDecodeError:
            break  # "]" (the end) or a call cut short
        if call not in calls:
            calls.append(call)
    return [
        {
            "id": "call_" + secrets.token_hex(12),
            "type": "function",
            "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
        }
        for c in calls
    ] or None


def _loads(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except json.JSONDecodeError:
        return arguments


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)
