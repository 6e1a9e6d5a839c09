"""The API's front door, as pure ASGI middleware: key, size and time are checked before FastAPI reads a byte of body.

FastAPI parses a request body (spooling a multipart upload to a temporary file) *before* it solves a route's
dependencies, so a key check written as a dependency comes too late for an upload: a 2 GB request without a key
would be read in full before its 401. This middleware looks at the headers first:

- a write (any POST/PUT/PATCH/DELETE; ``/v1/predict`` too unless ``predict_requires_key`` is off) without the
  configured ``X-API-Key`` → 401 at once;
- a ``Content-Length`` above the route's limit (the upload limit plus multipart overhead for ``/v1/predict/audio``,
  ``max_body_bytes`` for JSON) → 413 at once; a malformed one → 400;
- a body without ``Content-Length`` (chunked) is counted as it streams and cut at the limit → 413;
- the whole request runs under ``request_timeout_s`` → 504 when it is exceeded (work already handed to a worker
  thread — feature extraction — finishes in the background; the client gets its answer on time).

The routes keep their own key dependency (defence in depth, and it documents the key in OpenAPI).
"""

from __future__ import annotations

import asyncio
import json
import secrets

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mer.api.config import ServeConfig

UPLOAD_PATHS = frozenset({"/v1/predict/audio"})
PREDICT_PATH = "/v1/predict"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# multipart framing around the file (boundaries, part headers, the other form fields) on top of the file limit
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit; FastAPI re-raises HTTPExceptions met while
    it reads the body, so the app's handler answers it as a 413 Problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes")


async def send_problem(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """A ``{"detail": ...}`` answer (the API's Problem shape) without touching the request body."""
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    # the unread body makes the connection unusable for another request: say so instead of letting it hang
    raw.append((b"connection", b"close"))
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class DoorGuard:
    def __init__(self, app: ASGIApp, config: ServeConfig) -> None:
        self.app = app
        self.key = config.api_key.encode() if config.api_key else None
        self.open_paths = frozenset() if config.predict_requires_key else frozenset({PREDICT_PATH})
        self.max_upload_bytes = config.max_upload_bytes
        self.upload_limit = config.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
        self.body_limit = config.max_body_bytes
        self.timeout_s = config.request_timeout_s

    def limit_for(self, path: str) -> int:
        return self.upload_limit if path in UPLOAD_PATHS else self.body_limit

    def too_large(self, path: str, length: int) -> str:
        if path in UPLOAD_PATHS:
            return f"upload of {length} bytes exceeds the limit of {self.max_upload_bytes} bytes"
        return f"request body of {length} bytes exceeds the limit of {self.body_limit} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in WRITE_METHODS:
            path = scope["path"]
            key = length = None
            for name, value in scope["headers"]:
                if name == b"x-api-key":
                    key = value
                elif name == b"content-length":
                    length = value
            if self.key is not None and path not in self.open_paths and (
                    key is None or not secrets.compare_digest(key, self.key)):
                await send_problem(send, 401, "missing or wrong X-API-Key header", {"WWW-Authenticate": "ApiKey"})
                return
            limit = self.limit_for(path)
            if length is not None:
                if not length.isdigit():
                    await send_problem(send, 400, "malformed Content-Length header")
                    return
                if int(length) > limit:
                    await send_problem(send, 413, self.too_large(path, int(length)))
                    return
                # the server delivers no more than Content-Length announces: nothing to count
            else:
                receive = _counting(receive, limit)
        if self.timeout_s is None:
            await self.app(scope, receive, send)
            return
        await self._timed(scope, receive, send)

    async def _timed(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout_s):
                await self.app(scope, receive, send_tracking)
        except TimeoutError:
            if started:
                raise
            await send_problem(send, 504, f"request took longer than the server's limit of {self.timeout_s:g} s")
        except BodyTooLarge as exc:  # read outside FastAPI's body parsing: answer here
            if started:
                raise
            await send_problem(send, 413, str(exc.detail))


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted
