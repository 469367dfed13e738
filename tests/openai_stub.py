"""A scripted OpenAI-compatible endpoint for tests that cross a process boundary.

LangGraph Server runs the exported graphs in its own process, and the fault
suite needs real HTTP failures, so a fake chat model object will not do there.
:class:`OpenAIStub` serves ``/v1/chat/completions`` (plain and streamed, text
and tool calls) and ``/v1/models`` on a free 127.0.0.1 port from a thread. A
``responder`` decides each reply from the request body; ``fault`` makes the
endpoint refuse (HTTP 401), fail (HTTP 500) or answer slower than a client's
timeout; :meth:`stop` takes it down. Every request body is kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal


@dataclass(frozen=True)
class ToolCall:
    """A reply that calls ``name`` with ``args`` (how structured output arrives)."""

    name: str
    args: dict[str, Any]


Reply = str | ToolCall
Responder = Callable[[dict[str, Any]], Reply]
Fault = Literal["none", "refuse", "error", "slow"]


def last_user_text(body: dict[str, Any]) -> str:
    """The content of the request's last user message."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content)
    return str(content)


def system_text(body: dict[str, Any]) -> str:
    """The content of the request's system message(s)."""
    return "\n".join(
        str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system"
    )


def tool_name(body: dict[str, Any]) -> str | None:
    """The name of the first tool offered, if any (the structured-output schema)."""
    tools = body.get("tools") or []
    return str(tools[0]["function"]["name"]) if tools else None


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4 + 1
    completion = len(reply if isinstance(reply, str) else json.dumps(reply.args)) // 4 + 1
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}  # fmt: skip


def _message(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, str):
        return {"role": "assistant", "content": reply}
    call = {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
            "function": {"name": reply.name, "arguments": json.dumps(reply.args)}}  # fmt: skip
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """A non-streamed chat completion carrying ``reply``."""
    finish = "stop" if isinstance(reply, str) else "tool_calls"
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
        "created": int(time.time()), "model": body.get("model", "stub"),
        "choices": [{"index": 0, "message": _message(reply), "finish_reason": finish}],
        "usage": _usage(body, reply),
    }  # fmt: skip


def stream_chunks(body: dict[str, Any], reply: Reply) -> list[dict[str, Any]]:
    """The SSE chunks of a streamed completion: tokens one word at a time, then usage."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": body.get("model", "stub")}  # fmt: skip
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if isinstance(reply, str):
        words = reply.split(" ")
        deltas += [{"content": w if i == 0 else " " + w} for i, w in enumerate(words)]
    else:
        call = _message(reply)["tool_calls"][0]
        deltas.append({"tool_calls": [{"index": 0, **call}]})
    finish = "stop" if isinstance(reply, str) else "tool_calls"
    chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
              for d in deltas]  # fmt: skip
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    chunks.append({**base, "choices": [], "usage": _usage(body, reply)})
    return chunks


@dataclass
class OpenAIStub:
    """A scripted OpenAI-compatible server on a free port (start with :meth:`start`)."""

    responder: Responder
    fault: Fault = "none"
    slow_seconds: float = 5.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    """The HTTP headers of each request, in order (``Authorization`` included)."""
    peers: list[tuple[str, int]] = field(default_factory=list)
    """The client address of each request, in order (which process made a call)."""
    models: list[str] = field(default_factory=lambda: ["stub"])
    """What ``GET /v1/models`` lists (the model an unset name defaults to)."""
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """The ``/v1`` URL to give ChatOpenAI (``OPENAI_BASE_URL``)."""
        if self._server is None:
            raise RuntimeError("the stub is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self, port: int = 0) -> OpenAIStub:
        """Serve from a daemon thread; ``port=0`` picks a free one."""
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (the endpoint is then down)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            return

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - stdlib hook
            if self.path.rstrip("/").endswith("/models"):
                models = [{"id": name, "object": "model"} for name in stub.models]
                self._send_json(200, {"object": "list", "data": models})
            else:
                self._send_json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802 - stdlib hook
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            stub.peers.append(self.client_address[:2])
            stub.requests.append(body)
            stub.headers.append(dict(self.headers.items()))
            if stub.fault == "refuse":
                error = {"message": "Incorrect API key provided", "type": "invalid_request_error",
                         "code": "invalid_api_key"}  # fmt: skip
                self._send_json(401, {"error": error})
                return
            if stub.fault == "error":
                self._send_json(500, {"error": {"message": "stub failure", "type": "server_error"}})
                return
            if stub.fault == "slow":
                time.sleep(stub.slow_seconds)
            reply = stub.responder(body)
            try:
                if body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._send_json(200, completion(body, reply))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client left (a test killed it mid-call): nobody to answer

        def _stream(self, body: dict[str, Any], reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in stream_chunks(body, reply):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler
