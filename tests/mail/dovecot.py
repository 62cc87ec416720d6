"""A real IMAP server for tests: Debian's dovecot, started with a minimal config in a
temporary directory on a free port of 127.0.0.1 (plain IMAP, no TLS), one user.

Without /usr/sbin/dovecot the tests using it are skipped — except in CI (CI=true),
where a missing server is a failure, so the IMAP tests can never silently vanish."""

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
USER = "kontor"
PASSWORD = "imap-secret"


def customer(actor, **data):
    """A person created through the service (which keeps the indexed e-mail key the
    matching uses), owned by ``actor``."""
    from kontor.customers import services

    data.setdefault("last_name", "Muster")
    return services.person_create(actor=actor, data=data)


def build_mail(
    *,
    sender: str = "Erika Muster <erika@kunde.de>",
    to: str = "vertrieb@firma.de",
    cc: str = "",
    subject: str = "Anfrage",
    text: str | None = "Guten Tag, bitte ein Angebot.",
    html: str | None = None,
    message_id: str | None = "<m1@kunde.de>",
    in_reply_to: str = "",
    date: str = "Mon, 16 Nov 2026 09:30:00 +0100",
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> bytes:
    """A raw message as a mail program would send it."""
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = date
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    for name, content, mime in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    process: subprocess.Popen
    directory: Path

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into ``folder`` (as a mail client or delivery would)."""
        conn = self.connect()
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def unseen(self, folder: str = "INBOX") -> list[bytes]:
        conn = self.connect()
        try:
            conn.select(folder, readonly=True)
            return conn.search(None, "UNSEEN")[1][0].split()
        finally:
            conn.logout()


def _owner() -> tuple[str, int, int]:
    """The system user dovecot keeps the mail as: never root (dovecot refuses uid 0)."""
    entry = pwd.getpwuid(os.getuid()) if os.getuid() != 0 else pwd.getpwnam("dovecot")
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def _config(directory: Path, port: int, owner: str, internal: str) -> str:
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Answer a wrong password at once (the default waits 2 s).
auth_failure_delay = 0
mail_location = maildir:{directory}/mail/%u
first_valid_uid = 1
default_internal_user = {internal}
default_login_user = {internal}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {directory}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _wait_for(port: int, process: subprocess.Popen, log: Path, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def dovecot(settings):
    """A running dovecot with one user (``USER`` / ``PASSWORD``) and an empty INBOX.
    It listens on 127.0.0.1, which Kontor connects to only with
    MAIL_IMAP_ALLOW_PRIVATE (kontor.mail.servers): set here for the tests using it."""
    settings.MAIL_IMAP_ALLOW_PRIVATE = True
    if not os.path.exists(DOVECOT):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DOVECOT} is missing: CI must install dovecot-imapd")
        pytest.skip(f"{DOVECOT} is not installed")
    owner, uid, gid = _owner()
    internal = owner if os.getuid() != 0 else "dovecot"
    # Not under pytest's tmp_path: its parents are private to the test user, and
    # dovecot's processes run as ``owner``.
    directory = Path(tempfile.mkdtemp(prefix="kontor-dovecot-"))
    os.chmod(directory, 0o755)  # noqa: S103 — dovecot's own user must reach the mail
    for name in ("run", "state", "mail"):
        (directory / name).mkdir()
    home = directory / "mail" / USER
    home.mkdir()
    (directory / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}::\n")
    if os.getuid() == 0:
        for path in (directory / "mail", home):
            os.chown(path, uid, gid)
    port = free_port()
    conf = directory / "dovecot.conf"
    conf.write_text(_config(directory, port, owner, internal))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(port, process, directory / "dovecot.log")
        yield Dovecot("127.0.0.1", port, USER, PASSWORD, process, directory)
    finally:
        _stop(process)
        shutil.rmtree(directory, ignore_errors=True)
