"""gunicorn's settings for ``kontor serve`` (``gunicorn -c python:kontor.core.web_server``).

gunicorn answers a request it cannot parse or that passes its limits itself, before
Kontor sees it: 400 (malformed request line or header), 414 (request line longer than
``limit_request_line``), 431 (more than ``limit_request_fields`` headers or one longer
than ``limit_request_field_size``). Its answer is an HTML page and gunicorn has no
setting for that; ``ProblemThreadWorker`` (gunicorn's threaded worker) sends a small
``application/problem+json`` instead, in English (the request was not read far
enough to know the language), without echoing the request."""

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# gunicorn's largest request line; list filters and saved views make long URLs.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
worker_class = "kontor.core.web_server.ProblemThreadWorker"

DETAILS = {
    400: "The request could not be read.",
    403: "The request was refused.",
    414: f"The request line (method and URL) is longer than {limit_request_line} bytes.",
    417: "The expectation in the request cannot be met.",
    431: (
        f"The request has more than {limit_request_fields} header fields or one longer "
        f"than {limit_request_field_size} bytes."
    ),
    500: "Something went wrong.",
    501: "The transfer coding is not supported.",
}


def problem_bytes(status: int, reason: str) -> bytes:
    """The whole HTTP response gunicorn sends for an error of its own."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": reason,
            "status": status,
            "detail": DETAILS.get(status, DETAILS[400]),
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        "Cache-Control: no-store\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """Stands in for ``gunicorn.util.write_error`` (same signature); ``mesg`` names
    the request's fault in gunicorn's words and goes only to gunicorn's log."""
    util.write_nonblock(sock, problem_bytes(status_int, reason))


class ProblemThreadWorker(ThreadWorker):
    def init_process(self):
        # In the worker process only: Worker.handle_error writes through
        # gunicorn.util.write_error, the one place gunicorn writes its error pages.
        util.write_error = write_problem
        super().init_process()
