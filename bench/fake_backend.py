"""A fast fake OpenAI-compatible backend (raw asyncio HTTP/1.1, keep-alive) for benchmarks and tests.

Usage: python bench/fake_backend.py PORT [DELAY_S]   (DELAY_S: each answer is sent that much later)
"""

from __future__ import annotations

import asyncio
import json
import sys

CHAT = json.dumps(
    {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the fake backend."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
    }
).encode()
MODELS = json.dumps(
    {"object": "list", "data": [{"id": "fake", "object": "model", "created": 1, "owned_by": "b"}]}
).encode()


def _response(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: keep-alive\r\n\r\n"
        + body
    )


DELAY_S = 0.0


class FakeOpenAI(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            total = head_end + 4 + length
            if len(self.buf) < total:
                return
            self.buf = self.buf[total:]
            path = head.split(" ", 2)[1]
            answer = _response(MODELS if path.endswith("/models") else CHAT)
            if DELAY_S:
                asyncio.get_running_loop().call_later(DELAY_S, self._send, answer)
            else:
                self.transport.write(answer)  # type: ignore[attr-defined]

    def _send(self, answer: bytes) -> None:
        if not self.transport.is_closing():  # type: ignore[attr-defined]
            self.transport.write(answer)  # type: ignore[attr-defined]


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(FakeOpenAI, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if len(sys.argv) > 2:
        DELAY_S = float(sys.argv[2])
    asyncio.run(main(int(sys.argv[1])))
