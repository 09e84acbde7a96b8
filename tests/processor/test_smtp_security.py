"""The email notifier speaks STARTTLS, implicit TLS and SMTP login to a real server (aiosmtpd on
127.0.0.1 with a certificate made for the test), and verifies that server's certificate."""

from __future__ import annotations

import email
import shutil
import smtplib
import socket
import ssl
import subprocess
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from studio_world import CAL, NOW

from calsync import Notifications, SyncOptions, SyncProfile, SyncReport
from calsync.notices import Notice
from calsync.notify import EmailNotifier, SmtpSettings

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def authenticate(
        self, server: object, session: object, envelope: object, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"s3cret"
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    return context


def serve(**tls: Any) -> Iterator[tuple[Inbox, int]]:
    """aiosmtpd on a free port, requiring login, with the TLS options given."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_required=True,
        **tls,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    context = server_context(certificate)
    yield from serve(tls_context=context, require_starttls=True)


@pytest.fixture
def ssl_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    # the whole connection is TLS, which aiosmtpd cannot tell: allow AUTH without STARTTLS
    context = server_context(certificate)
    yield from serve(ssl_context=context, auth_require_tls=False)


def warn_ann(settings: SmtpSettings) -> None:
    options = SyncOptions(notifications=Notifications(warnings_and_errors=True))
    profile = SyncProfile("studio.ann", "ann", CAL, options, email="ann@studio.example")
    report = SyncReport("studio.ann", NOW, warnings=["the session s1 was restored"])
    EmailNotifier(settings).notify(profile, report, "", Notice.PROBLEM)


def test_starttls_with_login_delivers_the_digest(
    starttls_server: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = starttls_server

    warn_ann(
        SmtpSettings(
            "127.0.0.1", port, security="starttls", username="sync", password="s3cret",
            ca_file=str(certificate[0]),
        )
    )  # fmt: skip

    assert inbox.logins == ["sync"]
    assert [m["To"] for m in inbox.messages] == ["ann@studio.example"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_login_delivers_the_digest(
    ssl_server: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = ssl_server

    warn_ann(
        SmtpSettings(
            "127.0.0.1", port, security="ssl", username="sync", password="s3cret",
            ca_file=str(certificate[0]),
        )
    )  # fmt: skip

    assert inbox.logins == ["sync"]
    assert len(inbox.messages) == 1


def test_a_server_certificate_nobody_vouches_for_is_refused(
    starttls_server: tuple[Inbox, int],
) -> None:
    inbox, port = starttls_server

    with pytest.raises(ssl.SSLCertVerificationError):
        warn_ann(SmtpSettings("127.0.0.1", port, username="sync", password="s3cret"))

    assert inbox.messages == []


def test_a_wrong_password_is_refused_and_nothing_is_sent(
    starttls_server: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = starttls_server
    settings = SmtpSettings(
        "127.0.0.1", port, username="sync", password="wrong", ca_file=str(certificate[0])
    )

    with pytest.raises(smtplib.SMTPAuthenticationError, match="535"):
        warn_ann(settings)

    assert inbox.messages == []
