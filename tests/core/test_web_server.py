"""What gunicorn refuses itself (a malformed request, a request line or headers past
its limits) is answered as a small problem+json, not gunicorn's HTML page: a real
gunicorn with ``kontor serve``'s configuration, on a free port."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kontor
from kontor.core import web_server

APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send(port: int, raw: bytes) -> tuple[str, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    app_dir: Path = tmp_path_factory.mktemp("app")
    (app_dir / "hello.py").write_text(APP)
    port = free_port()
    src = str(Path(kontor.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(app_dir)])}
    command = [sys.executable, "-m", "gunicorn", "--config", "python:kontor.core.web_server"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2", "hello:app"]
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):  # up to 10 s on a busy machine
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        # The worker answers once it has loaded the app.
        assert send(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[2] == b"ok"
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def assert_problem(answer, status: int, reason: str):
    line, headers, body = answer
    assert line == f"HTTP/1.1 {status} {reason}"
    assert headers["Content-Type"] == "application/problem+json"
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(body) == {
        "type": "about:blank",
        "title": reason,
        "status": status,
        "detail": web_server.DETAILS[status],
    }


def test_a_long_url_is_a_414_problem(gunicorn):
    path = "/" + "a" * web_server.limit_request_line
    answer = send(gunicorn, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_problem(answer, 414, "URI Too Long")


def test_a_url_within_the_limit_reaches_kontor(gunicorn):
    path = "/?q=" + "a" * 8000  # past gunicorn's default of 4094
    answer = send(gunicorn, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert answer[0] == "HTTP/1.1 200 OK"


def test_too_many_or_too_long_headers_are_a_431_problem(gunicorn):
    many = "".join(f"X-H{i}: v\r\n" for i in range(web_server.limit_request_fields + 1))
    answer = send(gunicorn, f"GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert_problem(answer, 431, "Request Header Fields Too Large")
    long = "X-Long: " + "v" * web_server.limit_request_field_size
    answer = send(gunicorn, f"GET / HTTP/1.1\r\nHost: x\r\n{long}\r\n\r\n".encode())
    assert_problem(answer, 431, "Request Header Fields Too Large")


def test_a_malformed_request_is_a_400_problem_that_does_not_echo_it(gunicorn):
    answer = send(gunicorn, b"GET /<script> HTTP/9.9\r\nHost: x\r\n\r\n")
    assert_problem(answer, 400, "Bad Request")
    assert b"script" not in answer[2]


def test_serve_uses_this_configuration():
    from kontor.core.management.commands import serve

    source = Path(serve.__file__).read_text()
    assert '"python:kontor.core.web_server"' in source
