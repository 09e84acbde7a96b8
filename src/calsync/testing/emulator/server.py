"""The threaded HTTP server and :class:`GoogleEmulator`, its in-process face."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import struct
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from calsync.testing.emulator.core import EmulatorCore
from calsync.testing.emulator.dispatch import Dispatcher, ResetConnection
from calsync.testing.emulator.errors import reason_error
from calsync.testing.emulator.recurrence import InstanceIdStyle
from calsync.testing.emulator.state import PeopleListingEtags
from calsync.testing.emulator.wire import ApiRequest, ApiResponse

logger = logging.getLogger(__name__)

IDLE_TIMEOUT = 30.0
#: Query parameters whose values never reach the log.
_SECRETS = re.compile(r"(access_token|oauth_token|refresh_token|code|key|token)=[^&\s\"]+")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._open_lock:
            self._open.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before its answer (killed, timed out) is no error of the
        emulator's: logged at DEBUG, not printed as a traceback. Anything else is."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("client %s hung up: %s", client_address, error)
            return
        super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        """Close every kept-alive connection so no handler thread outlives the server."""
        with self._open_lock:
            sockets = list(self._open)
            self._open.clear()
        for connection in sockets:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = ApiRequest.from_target(self.command, self.path, dict(self.headers.items()), body)
        try:
            response = self.server.dispatcher.handle(request)
        except ResetConnection:
            self._reset()
            return
        except Exception:
            logger.exception("emulator failed on %s %s", request.method, request.path)
            error = reason_error(500, "backendError")
            response = ApiResponse.json(500, error.body("calendar"))
        self._write(response)

    def _write(self, response: ApiResponse) -> None:
        self.send_response(response.status, response.phrase)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.status not in (204, 304):
            self.wfile.write(response.body)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST, as a crashed front end would."""
        self.close_connection = True
        linger = struct.pack("ii", 1, 0)
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.connection.close()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), _SECRETS.sub(r"\1=…", format % args))


class GoogleEmulator(EmulatorCore):
    """Calendar v3, People v1 and OAuth on ``http://127.0.0.1:<port>``.

    Use as a context manager or with :meth:`start`/:meth:`stop`; see the package docstring
    for the layout under :attr:`base_url` and the control methods inherited from
    :class:`EmulatorCore`. ``instance_ids="opaque"`` names the instances of recurring events
    as Google does since Q3 2026 (opaque ids) instead of ``<series>_<start>`` (``"dated"``).
    ``people_listing_etags="refused"`` makes ``people.connections.list`` give etags that
    updateContact and batchUpdateContacts refuse (400 ``FAILED_PRECONDITION``), as Google's
    do (google-api-python-client issue #1169); get's are accepted. ``refused_zones`` names
    zones whose event writes are refused with 400 "Invalid time zone definition for start
    time.", as Google refused ``Europe/Kyiv`` in August 2022 (:meth:`set_refused_zones`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quota_per_window: int | None = None,
        quota_window_seconds: float = 60.0,
        people_propagation_delay: float = 0.0,
        instance_ids: InstanceIdStyle = "dated",
        people_listing_etags: PeopleListingEtags = "accepted",
        refused_zones: Iterable[str] = (),
    ) -> None:
        super().__init__(
            quota_per_window=quota_per_window,
            quota_window_seconds=quota_window_seconds,
            people_propagation_delay=people_propagation_delay,
            instance_ids=instance_ids,
            people_listing_etags=people_listing_etags,
            refused_zones=refused_zones,
        )
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> GoogleEmulator:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            return self
        self._server = _Server(self._address, Dispatcher(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"google-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("Google emulator serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self.push.close()
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        logger.info("Google emulator stopped")

    @property
    def port(self) -> int:
        """The bound TCP port (``RuntimeError`` before :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://host:port`` with no trailing slash."""
        host = self._address[0]
        return f"http://{host}:{self.port}"

    def __enter__(self) -> GoogleEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
