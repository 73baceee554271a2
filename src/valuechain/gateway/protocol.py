"""OpenAI wire format of the /v1 surface, ordered like the OpenAI API reference.

Requests forbid unknown fields (a typo must be a 400, not silently ignored). A real OpenAI parameter that a
text model cannot serve is a 400 ``unsupported_parameter`` (or ``unsupported_value``) naming it; parameters
that change nothing for a text model are accepted (docs/api-channel.md lists which is which). Responses are
built as plain dicts on the hot path; these models document them and validate requests.
Reference: https://platform.openai.com/docs/api-reference (chat, completions, embeddings, models) and
lm-evaluation-harness ``local-completions`` (echo + prompt logprobs, remote tokenizer routes).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

MAX_N = 8
MAX_STOP = 4


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def unsupported(param: str, why: str = "is not supported by this model") -> PydanticCustomError:
    """OpenAI's answer to a real parameter the model cannot serve (the router maps the type to the code)."""
    return PydanticCustomError(
        "unsupported_parameter", "Unsupported parameter: '{param}' {why}.", {"param": param, "why": why}
    )


def unsupported_value(param: str, why: str) -> PydanticCustomError:
    """OpenAI's answer to a value of a parameter that the model cannot serve."""
    return PydanticCustomError(
        "unsupported_value", "Unsupported value: '{param}' {why}.", {"param": param, "why": why}
    )


def _check_logit_bias(value: dict[str, float]) -> dict[str, float]:
    """Keys are token ids (integers as strings), values in [-100, 100] (the spec's ``logit_bias``)."""
    for key, bias in value.items():
        if not key.isdigit():
            raise ValueError(f"keys must be token ids (non-negative integers), got {key!r}")
        if not -100 <= bias <= 100:
            raise ValueError(f"values must be between -100 and 100, got {bias}")
    return value


LogitBias = Annotated[dict[str, float], AfterValidator(_check_logit_bias)]


class StreamOptions(_Request):
    """https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options"""

    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class ContentPart(_Request):
    """A text part of a message; other modalities are not served by text models."""

    type: Literal["text"]
    text: str


class FunctionCall(BaseModel):
    """https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices-message-tool_calls"""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    arguments: str


class ToolCall(BaseModel):
    """A call the assistant made, as sent back in the conversation."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class FunctionDefinition(_Request):
    """https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools"""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Request):
    """A function the model may call (``custom`` tools are not served)."""

    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(_Request):
    name: str


class NamedToolChoice(_Request):
    """``{"type": "function", "function": {"name": ...}}``: the model must call that function."""

    type: Literal["function"]
    function: NamedFunction


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice


class JsonSchemaFormat(_Request):
    """https://platform.openai.com/docs/api-reference/chat/create#chat-create-response_format"""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    schema_: Annotated[dict[str, Any] | None, Field(alias="schema")] = None
    strict: bool | None = None


class ResponseFormatText(_Request):
    type: Literal["text"]


class ResponseFormatJsonObject(_Request):
    type: Literal["json_object"]


class ResponseFormatJsonSchema(_Request):
    type: Literal["json_schema"]
    json_schema: JsonSchemaFormat


ResponseFormat = Annotated[
    ResponseFormatText | ResponseFormatJsonObject | ResponseFormatJsonSchema, Field(discriminator="type")
]


class ChatMessage(BaseModel):
    """https://platform.openai.com/docs/api-reference/chat/create#chat-create-messages"""

    model_config = ConfigDict(extra="allow", frozen=True)

    role: Literal["developer", "system", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

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
    logit_bias: LogitBias | None = None
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
    response_format: ResponseFormat | None = None
    tools: Annotated[list[Tool], Field(max_length=128)] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    # accepted without effect for a text model without reasoning (docs/api-channel.md)
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high"] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    # real parameters this gateway's models cannot serve: 400 unsupported_parameter when set
    audio: Any = None
    prediction: Any = None
    web_search_options: Any = None
    functions: Any = None
    function_call: Any = None

    @field_validator("audio", "prediction", "web_search_options", "functions", "function_call")
    @classmethod
    def _unsupported(cls, value: Any, info: Any) -> Any:
        if value is not None:
            why = "is deprecated; use 'tools'" if info.field_name.startswith("function") else None
            raise unsupported(info.field_name, why or "is not supported by this model")
        return value

    @field_validator("modalities")
    @classmethod
    def _text_only(cls, value: list[str] | None) -> list[str] | None:
        if value and "audio" in value:
            raise unsupported_value("modalities", "'audio' is not supported by this model")
        return value

    @field_validator("store")
    @classmethod
    def _not_stored(cls, value: bool | None) -> bool | None:
        if value:
            raise unsupported_value("store", "true is not supported: completions are not stored")
        return value

    @field_validator("service_tier")
    @classmethod
    def _one_tier(cls, value: str | None) -> str | None:
        if value not in (None, "auto", "default"):
            raise unsupported_value("service_tier", f"{value!r} is not offered; use 'auto' or 'default'")
        return value

    @model_validator(mode="after")
    def _check(self) -> ChatCompletionRequest:
        if self.top_logprobs and not self.logprobs:
            raise ValueError("top_logprobs requires logprobs: true")
        if isinstance(self.tool_choice, NamedToolChoice):
            names = {t.function.name for t in self.tools or []}
            if self.tool_choice.function.name not in names:
                raise ValueError(
                    f"tool_choice names {self.tool_choice.function.name!r}, which is not in tools"
                )
        elif self.tool_choice in ("auto", "required") and not self.tools:
            raise ValueError(f"tool_choice {self.tool_choice!r} requires tools")
        return self

    @property
    def output_limit(self) -> int | None:
        """The requested cap on generated tokens per choice."""
        return self.max_completion_tokens or self.max_tokens


TokenIds = Annotated[list[int], Field(min_length=1)]
Prompt = str | list[str] | list[int] | list[TokenIds]


class CompletionRequest(_Request):
    """https://platform.openai.com/docs/api-reference/completions/create"""

    model: str
    prompt: Prompt
    best_of: Annotated[int, Field(ge=1, le=1)] | None = None
    echo: bool | None = None
    frequency_penalty: Penalty | None = None
    logit_bias: LogitBias | None = None
    logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    max_tokens: Annotated[int, Field(ge=0)] | None = 16
    n: Annotated[int, Field(ge=1, le=MAX_N)] | None = None
    presence_penalty: Penalty | None = None
    seed: int | None = None
    stop: Stop = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    suffix: str | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    user: str | None = None

    @field_validator("suffix")
    @classmethod
    def _no_insertion(cls, value: str | None) -> str | None:
        if value:  # an empty suffix changes nothing; a real one asks for insertion (fill-in-the-middle)
            raise unsupported_value("suffix", "insertion is not supported by this model; leave it empty")
        return value

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
        | Annotated[list[TokenIds], Field(min_length=1)]
    )
    model: str
    dimensions: Annotated[int, Field(ge=1)] | None = None
    encoding_format: Literal["float", "base64"] | None = None
    user: str | None = None

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if value == "" or (isinstance(value, list) and "" in value):  # as OpenAI: nothing to embed
            raise ValueError("input must not be or contain an empty string")
        return value


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
