"""A client that hangs up before its answer (a worker killed mid-request, a timeout) is no
error of the emulator's: the emulator prints no traceback for it, which would bury the output
of a demo or a test run in noise."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator


def hang_up_on(emulator: GoogleEmulator) -> None:
    """Send a request and reset the connection before the (slowed) answer comes."""
    host, port = "127.0.0.1", emulator.port
    with socket.create_connection((host, port)) as connection:
        request = (
            "GET /calendar/v3/calendars/primary/events HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer someone\r\n\r\n"
        )
        connection.sendall(request.encode())
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_client_that_resets_its_connection_before_the_answer_leaves_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with GoogleEmulator() as emulator:
        emulator.inject_fault(latency=0.3, count=None)
        for _ in range(3):
            hang_up_on(emulator)
        time.sleep(0.8)  # the answers are written to the connections reset meanwhile

        _, err = capfd.readouterr()

    assert "Traceback" not in err
    assert "Broken pipe" not in err
    assert "Connection reset" not in err
