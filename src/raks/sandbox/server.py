"""The emulator's HTTPS servers on loopback: one for ARM + Kubernetes + control, one for Anyscale.

Sockets, TLS, per-request latency and connection-reset faults live here; what a request means
is decided by `World.dispatch`.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.world import World


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    world: World
    api: str  # "main" or "anyscale"
    stopping: threading.Event  # set on stop: open watch streams end


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body are written separately: without NODELAY, Nagle + delayed ACK add
        # ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the world keeps its own request log

    def _handle(self) -> None:
        started = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        req = Request.build(self.command, self.path, dict(self.headers.items()), body)
        world = self.server.world
        resp = world.dispatch(req, api=self.server.api, started=started)
        delay = world.request_delay(req)
        if delay > 0:
            time.sleep(delay)
        if resp.reset:
            # A connection reset: drop the socket without a response.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if resp.stream is not None:
            self._stream(resp)
            return
        payload = resp.encoded()
        self.send_response(resp.status)
        if payload or resp.body is not None:
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _stream(self, resp: Response) -> None:
        """A watch: chunked HTTP/1.1 until the stream ends, the client leaves or the server stops."""
        assert resp.stream is not None
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in resp.stream:
                if self.server.stopping.is_set() or (not chunk and self._client_left()):
                    break
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            else:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
        except OSError:
            pass
        finally:
            resp.stream.close()  # type: ignore[attr-defined]
        self.close_connection = True  # ended early: no terminating chunk, the connection goes

    def _client_left(self) -> bool:
        """Whether a watching client closed its connection (it sends nothing while it watches)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            self.connection.setblocking(False)
            try:
                return not self.connection.recv(1)
            finally:
                self.connection.setblocking(True)
        except ssl.SSLWantReadError:
            return False
        except (OSError, ValueError):
            return True

    def _read_chunked(self) -> bytes:
        data = b""
        while True:
            size = int(self.rfile.readline().strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _handle


class HttpsServer:
    """A threaded HTTPS server on 127.0.0.1 (port 0 = any free port)."""

    def __init__(self, world: World, api: str, cert: str, key: str, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.world = world
        self._server.api = api
        self._server.stopping = threading.Event()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"https://127.0.0.1:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="raks-sandbox", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
