"""POST /v1/completions (vLLM's ``serving_completion.py``): https://platform.openai.com/docs/api-reference/completions"""

from __future__ import annotations

from starlette.responses import Response

from valuechain.gateway.protocol import CompletionRequest
from valuechain.gateway.records import AdmissionRequest
from valuechain.gateway.serving import OpenAIServing, json_response, prompt_size
from valuechain.runtime.base import JsonDict


class OpenAIServingCompletion(OpenAIServing):
    """Text completions, whole or streamed (lm-evaluation-harness's ``echo`` + ``logprobs`` included)."""

    def text_of(self, result: JsonDict) -> str:
        return "".join(c.get("text") or "" for c in result.get("choices") or [])

    def delta_text(self, chunk: JsonDict) -> str:
        return self.text_of(chunk)

    async def create_completion(self, request: CompletionRequest, body: JsonDict, *, secret: str) -> Response:
        """Admit, call the backend with the admitted ``max_tokens``, answer and settle."""
        prompts = request.prompts()
        stream = bool(request.stream)
        ticket, backend = await self.admit(
            AdmissionRequest(
                secret=secret,
                model=request.model,
                endpoint="completions",
                stream=stream,
                prompt_estimate=prompt_size(list(prompts)),
                max_output=request.max_tokens,
                choices=(request.n or 1) * len(prompts),
                prompt_text="\n".join(x for x in prompts if isinstance(x, str)),
            )
        )
        body = {**body, "max_tokens": ticket.max_output}
        if stream:
            include_usage = bool(request.stream_options and request.stream_options.include_usage)
            return await self.stream(
                ticket, body, backend.completion_stream(body), include_usage=include_usage
            )
        result, committed = await self.once(ticket, body, backend.completion(body))
        return json_response(result, ticket.headers, after=committed)
