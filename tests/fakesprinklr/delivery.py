"""Writing responses to the client: normally, streamed, or deliberately broken.

Every function takes the request handler (for its socket and wfile) and
returns nothing; the faulty ones leave the connection closed or unusable.
"""

import email.utils
import gzip
import socket
import struct
import time

from fakesprinklr.messages import JSON_TYPE, TEXT_TYPE, Response

REASONS = {200: "OK", 204: "No Content", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
           413: "Payload Too Large", 421: "Misdirected Request", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}
GZIP_MIN = 512
MALFORMED = b'<html><head><title>502 Bad Gateway</title></head><body>upstream error'


def _accepts_gzip(req):
    for item in (req.header("Accept-Encoding") or "").lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() == "gzip" and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def render(handler, resp, req, closing=False):
    """(head, body) bytes of a complete (non-streamed) response."""
    body = bytes(resp.body)
    headers = dict(resp.headers)
    if req is not None and len(body) >= GZIP_MIN and _accepts_gzip(req):
        body = gzip.compress(body, compresslevel=5)
        handler.note_gzip()
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
    headers["Content-Length"] = str(len(body))
    return _head(handler, resp.status, headers, closing), body


def _head(handler, status, headers, closing):
    if closing or handler.close_connection:
        handler.close_connection = True
        headers["Connection"] = "close"
    lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status")),
             "Date: " + email.utils.formatdate(usegmt=True),
             "Server: fakesprinklr"]
    lines += ["%s: %s" % (name, value) for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def send(handler, resp, req):
    """Write resp normally (streamed bodies use chunked encoding)."""
    if resp.streamed():
        _send_chunked(handler, resp)
        return
    head, body = render(handler, resp, req)
    handler.wfile.write(head + body)


def _send_chunked(handler, resp):
    headers = dict(resp.headers)
    headers["Transfer-Encoding"] = "chunked"
    handler.wfile.write(_head(handler, resp.status, headers, False))
    for chunk in resp.body:
        if chunk:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    handler.wfile.write(b"0\r\n\r\n")


def send_status(handler, fault, req):
    """The fault's own status, body and headers."""
    body = fault.body.encode("utf-8")
    kind = JSON_TYPE if body.lstrip()[:1] in (b"{", b"[") else TEXT_TYPE
    resp = Response(fault.status, body, kind, fault.headers)
    send(handler, resp, req)


def send_truncated(handler, resp, req):
    """Headers with the full Content-Length, half the body, then close."""
    head, body = render(handler, resp, req, closing=True)
    handler.wfile.write(head + body[:len(body) // 2])
    handler.close_connection = True


def send_malformed(handler, fault, req):
    """A 200 whose body is not JSON."""
    body = fault.body.encode("utf-8") if fault.body else MALFORMED
    send(handler, Response(200, body, JSON_TYPE), req)


def send_trickle(handler, resp, req, seconds):
    """The whole response, one byte every `seconds`."""
    head, body = render(handler, resp, req)
    for offset, byte in enumerate(head + body):
        if offset:
            time.sleep(seconds)
        handler.wfile.write(bytes((byte,)))


def reset(handler):
    """Close the TCP connection abruptly (RST), answering nothing."""
    sock = handler.connection
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    handler.close_connection = True
    handler.rfile.close()
    sock.close()


def hang(handler, seconds):
    """Answer nothing for `seconds` (or until shutdown), then close."""
    handler.server.stopping.wait(seconds)
    handler.close_connection = True
