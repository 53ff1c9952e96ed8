"""Plain request and response values passed between the HTTP layer and handlers."""

import json
from urllib.parse import parse_qs

JSON_TYPE = "application/json;charset=UTF-8"
TEXT_TYPE = "text/plain;charset=UTF-8"


class Request:
    """One parsed HTTP request."""

    def __init__(self, method, path, query, headers, body, has_length):
        self.method = method
        self.path = path              # percent-encoded, without the query string
        self.query_string = query
        self.query = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        self.headers = headers        # case-insensitive (email.message.Message)
        self.body = body
        self.has_length = has_length  # Content-Length or chunked body was sent

    def header(self, name):
        return self.headers.get(name)

    def content_type(self):
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        """The decoded JSON body; ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


class Response:
    """Status, headers and a body (bytes, or an iterator of bytes to stream)."""

    def __init__(self, status, body=b"", content_type=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        if content_type:
            self.headers["Content-Type"] = content_type

    def streamed(self):
        return not isinstance(self.body, (bytes, bytearray))


def encode(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(status, obj, headers=None):
    return Response(status, encode(obj), JSON_TYPE, headers)


def text_response(status, text, headers=None):
    return Response(status, text.encode("utf-8"), TEXT_TYPE, headers)


def v2(data, status=200):
    """The v2 envelope around data."""
    return json_response(status, {"data": data, "errors": []})


def v2_error(status, message, data=None):
    """A v2 error envelope; data is [] for gateway errors, null otherwise."""
    return json_response(status, {"data": data, "errors": [{"code": status, "message": message}]})
