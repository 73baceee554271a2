"""POST /v1/chat/completions (vLLM's ``serving_chat.py``): https://platform.openai.com/docs/api-reference/chat"""

from __future__ import annotations

from starlette.responses import Response

from valuechain.gateway.protocol import ChatCompletionRequest
from valuechain.gateway.records import AdmissionRequest
from valuechain.gateway.serving import OpenAIServing, json_response, prompt_size
from valuechain.runtime.base import JsonDict


class OpenAIServingChat(OpenAIServing):
    """Chat completions, whole or streamed."""

    def text_of(self, result: JsonDict) -> str:
        return "".join((c.get("message") or {}).get("content") or "" for c in result.get("choices") or [])

    def conform(self, result: JsonDict) -> None:
        super().conform(result)
        for choice in (
            result.get("choices") or []
        ):  # required, null when there is none (llama-server omits it)
            message = choice.get("message")
            if message is not None and "refusal" not in message:
                message["refusal"] = None

    def delta_text(self, chunk: JsonDict) -> str:
        return "".join((c.get("delta") or {}).get("content") or "" for c in chunk.get("choices") or [])

    async def create_chat_completion(
        self, request: ChatCompletionRequest, body: JsonDict, *, secret: str
    ) -> Response:
        """Admit, call the backend with the admitted ``max_tokens``, answer and settle."""
        texts = [m.text() for m in request.messages]
        tools_size = len(str(body["tools"])) if request.tools else 0  # described to the model in its prompt
        stream = bool(request.stream)
        ticket, backend = await self.admit(
            AdmissionRequest(
                secret=secret,
                model=request.model,
                endpoint="chat",
                stream=stream,
                prompt_estimate=prompt_size(texts) + 8 * len(texts) + 16 + tools_size,
                max_output=request.output_limit,
                choices=request.n or 1,
                prompt_text="\n".join(texts),
            )
        )
        body = {**body, "max_tokens": ticket.max_output}
        body.pop("max_completion_tokens", None)
        if stream:
            include_usage = bool(request.stream_options and request.stream_options.include_usage)
            return await self.stream(ticket, body, backend.chat_stream(body), include_usage=include_usage)
        result, committed = await self.once(ticket, body, backend.chat(body))
        return json_response(result, ticket.headers, after=committed)
