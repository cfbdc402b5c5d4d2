"""Plain request/response values passed between the sandbox's HTTPS server and its APIs.

Each emulated API (ARM, Kubernetes, Anyscale, the control API) is a handler
`handle(request) -> Response`; the server owns sockets, TLS, faults and the request log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str  # percent-decoded path, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes = b""
    raw_path: str = ""  # the path as sent (still percent-encoded)

    @classmethod
    def build(cls, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Request:
        parts = urlsplit(target)
        return cls(
            method=method.upper(),
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
            raw_path=parts.path,
        )

    def q(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter (case-insensitive name, as ARM treats them)."""
        for key, values in self.query.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return default

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON; bytes/str sent as is; None -> empty body
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    # Faults: close the connection without answering (a "connection reset").
    reset: bool = False
    # A streamed body (a Kubernetes watch): chunks sent with chunked transfer encoding once the
    # world's lock is released; an empty chunk means "nothing yet" (the server then checks that the
    # client is still connected). Closing the iterator ends the stream.
    stream: Iterator[bytes] | None = None

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def json_response(status: int, body: Any, **headers: str) -> Response:
    return Response(status, body, dict(headers))
