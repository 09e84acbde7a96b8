"""A small ASGI application for the hosted edition (Starlette; ``pip install calsync[web]``).

    app = create_app(
        NotificationReceiver(store, processor),
        authorization=WebAuthorization(client, redirect_uri, tokens, profiles),
        current_profile=my_login_check,           # the host's own authentication
    )
    # serve with uvicorn, or mount under the host's own Starlette/FastAPI application

Routes:

* ``POST /google/notifications`` — Google's push notifications, answered with the status
  the :class:`~calsync.push.NotificationReceiver` decides (200, or 400/403/404 refused). They
  carry no body: one announced or sent longer than 4 KiB is refused (413) without being read.
* ``GET /healthz`` — ``{"status": "ok"}``.
* ``GET /oauth/google/start`` — with ``authorization`` and ``current_profile``: starts the
  web-server flow for the profile the signed-in user may connect (``current_profile``
  returns its id, or ``None`` for 403) and redirects to Google, binding the flow's ``state``
  to the browser in an HttpOnly cookie.
* ``GET /oauth/google/callback`` — checks ``state`` against the cookie and against the flow
  pending for the profile ``current_profile`` returns (403 when another profile started it),
  exchanges the code (PKCE), stores the token and clears ``needs_reauth``/``not_connected``;
  a page names the scopes the user did not grant when the profile needs them (403). A code
  Google refuses answers 502; a Google that cannot be reached, or whose token endpoint says it
  cannot answer now (5xx, 429, ``temporarily_unavailable``), 503, as does a callback whose
  ``error`` is ``server_error`` or ``temporarily_unavailable``; any other ``error``, 400.

Mounted under a prefix (``Mount("/calsync", app)``), the cookie's path follows the mount.

Only this module imports Starlette; the core never imports it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from calsync.errors import AuthError, TransientError
from calsync.google.auth import OAUTH_UNAVAILABLE, ScopesNotGranted
from calsync.google.web_auth import AuthorizationRefused, WebAuthorization
from calsync.push.receiver import NotificationReceiver

__all__ = ["STATE_COOKIE", "create_app"]

logger = logging.getLogger(__name__)

STATE_COOKIE = "calsync_oauth_state"
OAUTH_PATH = "/oauth/google"

#: Finds the profile the request's signed-in user may connect (``None``: refused).
CurrentProfile = Callable[[Request], str | None]

#: Bytes of a notification's body read (and dropped) at most; Google sends none.
NOTIFICATION_BODY_LIMIT = 4096

#: The error codes of RFC 6749 (4.1.2.1) a callback page may name; any other text is not shown.
OAUTH_ERRORS = frozenset(
    {
        "access_denied",
        "invalid_request",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "unauthorized_client",
        "unsupported_response_type",
    }
)


def create_app(
    receiver: NotificationReceiver | None = None,
    *,
    authorization: WebAuthorization | None = None,
    current_profile: CurrentProfile | None = None,
    secure_cookies: bool = True,
) -> Starlette:
    """The ASGI application: notifications with a ``receiver``, the OAuth flow with
    ``authorization`` and ``current_profile``, and ``/healthz`` always.

    ``secure_cookies=False`` lets the state cookie travel over plain http (loopback tests).
    """
    routes = [Route("/healthz", _healthz, methods=["GET"])]
    if receiver is not None:
        routes.append(Route("/google/notifications", _notifications(receiver), methods=["POST"]))
    if authorization is not None and current_profile is not None:
        flow = _OAuthRoutes(authorization, current_profile, secure_cookies)
        routes.append(Route(f"{OAUTH_PATH}/start", flow.start, methods=["GET"]))
        routes.append(Route(f"{OAUTH_PATH}/callback", flow.callback, methods=["GET"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if receiver is not None:
            receiver.close()

    return Starlette(routes=routes, lifespan=lifespan)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _notifications(receiver: NotificationReceiver) -> Callable[[Request], Any]:
    async def notifications(request: Request) -> Response:
        if not await _small_body(request):
            return Response(status_code=413, headers={"Connection": "close"})
        decision = await run_in_threadpool(receiver.handle, dict(request.headers))
        return Response(status_code=decision.status)

    return notifications


async def _small_body(request: Request) -> bool:
    """Whether the body is within the limit: read and dropped chunk by chunk, never kept, and
    not read at all when its announced length is over."""
    length = request.headers.get("content-length", "0")
    if not (length.isascii() and length.isdigit()) or int(length) > NOTIFICATION_BODY_LIMIT:
        return False
    received = 0
    async for chunk in request.stream():  # a chunked body announces no length
        received += len(chunk)
        if received > NOTIFICATION_BODY_LIMIT:
            return False
    return True


class _OAuthRoutes:
    def __init__(
        self, authorization: WebAuthorization, current_profile: CurrentProfile, secure: bool
    ) -> None:
        self.authorization = authorization
        self.current_profile = current_profile
        self.secure = secure

    async def start(self, request: Request) -> Response:
        profile_id = self.current_profile(request)
        if profile_id is None:
            return _text(403, "Sign in to connect Google.")
        started = await run_in_threadpool(self.authorization.begin, profile_id)
        response = RedirectResponse(started.url, status_code=302)
        response.set_cookie(
            STATE_COOKIE,
            started.state,
            max_age=int(self.authorization.ttl),
            path=_oauth_path(request),
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )
        return response

    async def callback(self, request: Request) -> Response:
        query = request.query_params
        if "error" in query:
            # (Google's own trouble is not the user's refusal: as when its token endpoint
            # cannot answer, 503)
            unavailable = query["error"] in OAUTH_UNAVAILABLE
            return _page(request, 503 if unavailable else 400, _google_error(query["error"]))
        state, code = query.get("state"), query.get("code")
        if not state or not code:
            return _page(request, 400, "This is not an answer from Google.")
        profile_id = self.current_profile(request)
        if profile_id is None:
            return _page(request, 403, "Sign in to connect Google.")
        try:
            await run_in_threadpool(
                self.authorization.complete,
                state=state,
                code=code,
                browser_state=request.cookies.get(STATE_COOKIE),
                profile_id=profile_id,
            )
        except AuthorizationRefused as exc:
            logger.warning("OAuth callback refused: %s", exc)
            return _page(request, 403, f"{exc}.")
        except ScopesNotGranted as exc:
            return _page(
                request, 403, f"Google was not connected: {exc}. Please start again and allow it."
            )
        except AuthError as exc:
            logger.warning("OAuth code exchange failed: %s", exc)
            return _page(request, 502, "Google refused the authorisation; please start again.")
        except TransientError as exc:
            logger.warning("OAuth code exchange failed: %s", exc)
            return _page(request, 503, "Google could not be reached; please start again.")
        return _page(request, 200, "Google is connected. You can close this window.")


def _oauth_path(request: Request) -> str:
    """The flow's path as the browser sees it: under the prefix the app is mounted at."""
    root_path: str = request.scope.get("root_path", "")
    return root_path.rstrip("/") + OAUTH_PATH


def _page(request: Request, status: int, text: str) -> Response:
    """A callback's page; the flow is over, so the state cookie goes."""
    response = _text(status, text)
    response.delete_cookie(STATE_COOKIE, path=_oauth_path(request))
    return response


def _google_error(error: str) -> str:
    """A fixed page for Google's error answer, naming the error only when it is a known code
    (the parameter is whatever the link said: never shown as given)."""
    logger.info("OAuth callback: Google answered %r", error[:100])
    if error == "access_denied":
        return "Google was not connected: the authorisation was declined."
    if error in OAUTH_UNAVAILABLE:
        return f"Google could not answer now ({error}); please start again."
    if error in OAUTH_ERRORS:
        return f"Google did not connect ({error}); please start again."
    return "Google did not connect; please start again."


def _text(status: int, text: str) -> Response:
    return PlainTextResponse(
        text, status_code=status, headers={"X-Content-Type-Options": "nosniff"}
    )
