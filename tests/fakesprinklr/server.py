"""The HTTP(S) server: connection handling, request parsing, dispatch, logging.

Concurrency: ThreadingHTTPServer with daemon threads, one thread per
connection, so a hanging or trickling fault never blocks other clients.  TLS
handshakes happen in the connection's thread, not in the accept loop.  All
shared state lives in the App, whose parts each carry their own lock.
Counters are updated before a response is written, so a client that has
read a response always finds its call counted, and its connection and TLS
handshake (counted as soon as they happen) too.
"""

import itertools
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fakesprinklr import api, control, delivery, routes
from fakesprinklr.messages import Request, text_response, v2_error

MAX_BODY = 16 << 20
HANDSHAKE_TIMEOUT = 10.0
QUIET_ERRORS = (ConnectionError, ssl.SSLError, TimeoutError, BrokenPipeError)


class BodyError(Exception):
    """A request body that cannot be read; answered with status, then close."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class FakeServer(ThreadingHTTPServer):
    """A threading HTTP server, optionally TLS, serving one App."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, host, port, app, ssl_context=None):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.host = host
        self.ssl_context = ssl_context
        self.stopping = threading.Event()
        self.serials = itertools.count(1)
        super().__init__((host, port), Handler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.app.counters.accepted()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        if self.ssl_context is not None:
            try:
                request.settimeout(HANDSHAKE_TIMEOUT)
                request.do_handshake()
                request.settimeout(None)
            except (OSError, ValueError):
                return
            self.app.counters.handshake(request.session_reused)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], QUIET_ERRORS):
            super().handle_error(request, client_address)

    def url(self):
        host, port = self.host, self.server_address[1]
        scheme = "https" if self.ssl_context is not None else "http"
        return "%s://%s:%d" % (scheme, "[%s]" % host if ":" in host else host, port)


class Handler(BaseHTTPRequestHandler):
    """One keep-alive connection; every method goes through ``serve``."""

    protocol_version = "HTTP/1.1"
    server_version = "fakesprinklr"
    timeout = 300

    def setup(self):
        super().setup()
        self.serial = next(self.server.serials)
        self.route = None

    def log_message(self, fmt, *args):
        """Silence the default log; ``serve`` writes its own line."""

    def do_GET(self):
        self.serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def serve(self):
        start = time.monotonic()
        self.route = None
        path = self.path.split("?", 1)[0]
        try:
            status = self.process(path)
        except QUIET_ERRORS:
            self.close_connection = True
            status = "aborted"
        ms = (time.monotonic() - start) * 1000
        sys.stderr.write("%s %s %s %.1fms\n" % (self.command, path, status, ms))

    def process(self, path):
        """Answer one request; returns the status (or fault name) for the log."""
        try:
            req = self.read_request(path)
        except BodyError as err:
            self.close_connection = True
            delivery.send(self, text_response(err.status, str(err)), None)
            return err.status
        if path.startswith(control.PREFIX):
            resp = control.handle(self.server.app, req)
            delivery.send(self, resp, req)
            return resp.status
        return self.api_call(req)

    def read_request(self, path):
        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        body, has_length = self.read_body()
        return Request(self.command, path, query, self.headers, body, has_length)

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_chunked(), True
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", False
        try:
            size = int(length)
        except ValueError:
            raise BodyError(400, "Bad Content-Length") from None
        if size < 0 or size > MAX_BODY:
            raise BodyError(413 if size > 0 else 400, "Bad Content-Length")
        return self.rfile.read(size), True

    def read_chunked(self):
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BodyError(400, "Bad chunk") from None
            total += size
            if total > MAX_BODY:
                raise BodyError(413, "Body too large")
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def api_call(self, req):
        app = self.server.app
        route = routes.resolve(app.envs, req.method, req.path)
        env = route.env or routes.UNKNOWN
        if route.endpoint == routes.UNKNOWN:
            app.counters.call(env, routes.UNKNOWN, 404, self.serial)
            delivery.send(self, v2_error(404, "Not Found"), req)
            return 404
        self.route = route
        fault = app.faults.take(route.env, route.endpoint)
        if app.config.latency:
            time.sleep(app.config.latency)
        return self.answer(app, route, req, fault)

    def answer(self, app, route, req, fault):
        """Handle the call (unless a fault pre-empts it) and write the answer."""
        kind = fault.kind if fault is not None else None

        def count(label):
            app.counters.call(route.env, route.endpoint, label, self.serial)

        if kind in ("reset", "hang", "malformed", "status"):
            label = fault.status if kind == "status" else kind
            count(label)
            _PREEMPT[kind](self, fault, req)
            return label
        if kind == "latency":
            time.sleep(fault.seconds)
        resp = self.handled(app, route, req)
        if kind == "truncate":
            count("truncate")
            delivery.send_truncated(self, resp, req)
            return "truncate"
        count(resp.status)
        if kind == "trickle":
            delivery.send_trickle(self, resp, req, fault.seconds)
        else:
            delivery.send(self, resp, req)
        return resp.status

    def note_gzip(self):
        """The answer being rendered goes out gzip-encoded: count it, unless
        it answers a control call."""
        if self.route is not None:
            self.server.app.counters.gzipped(self.route.env or routes.UNKNOWN,
                                             self.route.endpoint)

    def handled(self, app, route, req):
        try:
            return api.handle(app, route, req)
        except Exception as err:   # a bug in the fake: answer 500, keep serving
            sys.stderr.write("internal error: %s\n%s" % (err, traceback.format_exc()))
            return v2_error(500, "Internal Server Error")


_PREEMPT = {
    "reset": lambda handler, fault, req: delivery.reset(handler),
    "hang": lambda handler, fault, req: delivery.hang(handler, fault.seconds),
    "malformed": delivery.send_malformed,
    "status": delivery.send_status,
}

