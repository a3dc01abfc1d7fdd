"""A loopback HTTP proxy that drops If-Match / If-None-Match from PUT requests: it
stands for S3-compatible services that accept conditional writes and ignore the
condition. Put it in front of moto; a store must notice when it opens.

With `strip=False` it keeps the conditions and can lose answers instead
(`lose_write_answers`): a PUT or POST reaches the service, and the client's
connection is closed without its reply, as a network failure after the write would.
It forwards any HTTP service (moto, fake-gcs-server, Azurite).

(SeaweedFS verifies request signatures, which cover those headers: use moto.)"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

STRIPPED = ("if-match", "if-none-match")
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {}
        for name, value in self.headers.items():
            low = name.lower()
            if low in _HOP or low == "expect":
                continue
            if self.command == "PUT" and low in STRIPPED and self.server.strip:
                with self.server.lock:
                    self.server.stripped += 1
                continue
            headers[name] = value
        conn = http.client.HTTPConnection(self.server.target_host, self.server.target_port, 30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if self.command in ("PUT", "POST") and self.server.take_lost_answer():
                self.close_connection = True  # the write happened; its answer is lost
                return
            self.send_response(resp.status, resp.reason)
            for name, value in resp.getheaders():
                if name.lower() not in _HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            if self.command == "HEAD":
                self.send_header("Content-Length", resp.getheader("Content-Length") or "0")
                self.end_headers()
            else:
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        finally:
            conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str, strip: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parts = urlsplit(target)
        self.target_host = parts.hostname or "127.0.0.1"
        self.target_port = parts.port or 80
        self.lock = threading.Lock()
        self.strip = strip
        self.stripped = 0
        self.lose = 0

    def take_lost_answer(self) -> bool:
        with self.lock:
            if self.lose <= 0:
                return False
            self.lose -= 1
            return True


class StrippingProxy:
    """`with StrippingProxy(moto_endpoint) as proxy: proxy.endpoint` (127.0.0.1)."""

    def __init__(self, target: str, *, strip: bool = True) -> None:
        self._server = _Server(target, strip)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def stripped(self) -> int:
        """How many conditions were dropped so far."""
        return self._server.stripped

    def lose_write_answers(self, count: int = 1) -> None:
        """The next `count` PUTs or POSTs are carried out, and their answers never sent."""
        with self._server.lock:
            self._server.lose = count

    def start(self) -> StrippingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StrippingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
