"""POST /v1/embeddings (vLLM's ``serving_embedding.py``): https://platform.openai.com/docs/api-reference/embeddings"""

from __future__ import annotations

from starlette.responses import Response

from valuechain.gateway.protocol import EmbeddingRequest
from valuechain.gateway.records import AdmissionRequest
from valuechain.gateway.serving import OpenAIServing, json_response, prompt_size
from valuechain.gateway.vectors import to_base64
from valuechain.runtime.base import JsonDict


class OpenAIServingEmbedding(OpenAIServing):
    """Embeddings, as float lists or base64."""

    async def create_embedding(self, request: EmbeddingRequest, body: JsonDict, *, secret: str) -> Response:
        """Admit, call the backend, answer and settle."""
        raw = request.input
        inputs = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else list(raw)
        ticket, backend = await self.admit(
            AdmissionRequest(
                secret=secret,
                model=request.model,
                endpoint="embeddings",
                stream=False,
                prompt_estimate=prompt_size(inputs),
                max_output=0,
                choices=1,
                prompt_text="\n".join(x for x in inputs if isinstance(x, str)),
            )
        )
        result, committed = await self.once(ticket, body, backend.embeddings(body))
        if request.encoding_format == "base64":
            for item in result["data"]:
                item["embedding"] = to_base64(item["embedding"])
        return json_response(result, ticket.headers, after=committed)
