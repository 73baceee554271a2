"""OpenAI wire format of the /v1 surface, ordered like the OpenAI API reference.

Requests forbid unknown fields (a typo must be a 400, not silently ignored). Responses are built as plain
dicts on the hot path; these models document them and validate requests.
Reference: https://platform.openai.com/docs/api-reference (chat, completions, embeddings, models) and
lm-evaluation-harness ``local-completions`` (echo + prompt logprobs, remote tokenizer routes).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_N = 8
MAX_STOP = 4


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StreamOptions(_Request):
    """https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options"""

    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class ContentPart(_Request):
    """A text part of a message; other modalities are not served by text models."""

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    """https://platform.openai.com/docs/api-reference/chat/create#chat-create-messages"""

    model_config = ConfigDict(extra="allow", frozen=True)

    role: Literal["developer", "system", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        """The message content as one string."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


Stop = str | Annotated[list[str], Field(max_length=MAX_STOP)] | None
Temperature = Annotated[float, Field(ge=0, le=2)]
TopP = Annotated[float, Field(gt=0, le=1)]
Penalty = Annotated[float, Field(ge=-2, le=2)]


class ChatCompletionRequest(_Request):
    """https://platform.openai.com/docs/api-reference/chat/create"""

    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    model: str
    frequency_penalty: Penalty | None = None
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    metadata: dict[str, str] | None = None
    n: Annotated[int, Field(ge=1, le=MAX_N)] | None = None
    presence_penalty: Penalty | None = None
    seed: int | None = None
    service_tier: str | None = None
    stop: Stop = None
    store: bool | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: Temperature | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    top_p: TopP | None = None
    user: str | None = None
    safety_identifier: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ChatCompletionRequest:
        if self.top_logprobs and not self.logprobs:
            raise ValueError("top_logprobs requires logprobs: true")
        return self

    @property
    def output_limit(self) -> int | None:
        """The requested cap on generated tokens per choice."""
        return self.max_completion_tokens or self.max_tokens


Prompt = str | list[str] | list[int] | list[list[int]]


class CompletionRequest(_Request):
    """https://platform.openai.com/docs/api-reference/completions/create"""

    model: str
    prompt: Prompt
    best_of: Annotated[int, Field(ge=1, le=1)] | None = None
    echo: bool | None = None
    frequency_penalty: Penalty | None = None
    logit_bias: dict[str, float] | None = None
    logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    max_tokens: Annotated[int, Field(ge=0)] | None = 16
    n: Annotated[int, Field(ge=1, le=MAX_N)] | None = None
    presence_penalty: Penalty | None = None
    seed: int | None = None
    stop: Stop = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    suffix: None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    user: str | None = None

    @model_validator(mode="after")
    def _check(self) -> CompletionRequest:
        if isinstance(self.prompt, list) and len(self.prompt) == 0:
            raise ValueError("prompt must not be empty")
        if self.max_tokens == 0 and not self.echo:
            raise ValueError("max_tokens 0 is only allowed with echo")
        return self

    def prompts(self) -> list[str] | list[list[int]]:
        """The prompt as a list of prompts (strings or token-id lists)."""
        p = self.prompt
        if isinstance(p, str):
            return [p]
        if p and isinstance(p[0], int):
            return [p]  # type: ignore[list-item]
        return p  # type: ignore[return-value]


class EmbeddingRequest(_Request):
    """https://platform.openai.com/docs/api-reference/embeddings/create"""

    input: (
        str
        | Annotated[list[str], Field(min_length=1)]
        | Annotated[list[int], Field(min_length=1)]
        | Annotated[list[list[int]], Field(min_length=1)]
    )
    model: str
    dimensions: Annotated[int, Field(ge=1)] | None = None
    encoding_format: Literal["float", "base64"] | None = None
    user: str | None = None


class TokenizeRequest(_Request):
    """vLLM's ``POST /tokenize`` as lm-evaluation-harness's remote tokenizer calls it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    prompt: str
    model: str | None = None
    add_special_tokens: bool = True


class DetokenizeRequest(_Request):
    """vLLM's ``POST /detokenize``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tokens: list[int]
    model: str | None = None


# --- responses (documentation of the shapes the hot path emits as dicts) ---------------------------


class Usage(BaseModel):
    """https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage"""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ModelCard(BaseModel):
    """https://platform.openai.com/docs/api-reference/models/object"""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """https://platform.openai.com/docs/api-reference/models/list"""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorBody(BaseModel):
    """https://platform.openai.com/docs/guides/error-codes (the ``error`` object)."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """``{"error": {...}}`` as the official client parses it."""

    error: ErrorBody


def usage_dict(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """A usage object."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
