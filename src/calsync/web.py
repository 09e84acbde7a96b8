"""A small ASGI application for the hosted edition (Starlette; ``pip install calsync[web]``).

    app = create_app(
        NotificationReceiver(store, processor),
        authorization=WebAuthorization(client, redirect_uri, tokens, profiles),
        current_profile=my_login_check,           # the host's own authentication
    )
    # serve with uvicorn, or mount under the host's own Starlette/FastAPI application

Routes:

* ``POST /google/notifications`` — Google's push notifications, answered with the status
  the :class:`~calsync.push.NotificationReceiver` decides (200, or 400/403/404 refused).
* ``GET /healthz`` — ``{"status": "ok"}``.
* ``GET /oauth/google/start`` — with ``authorization`` and ``current_profile``: starts the
  web-server flow for the profile the signed-in user may connect (``current_profile``
  returns its id, or ``None`` for 403) and redirects to Google, binding the flow's ``state``
  to the browser in an HttpOnly cookie.
* ``GET /oauth/google/callback`` — checks ``state`` against the cookie and the pending flow,
  exchanges the code (PKCE), stores the token and clears ``needs_reauth``.

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

from calsync.errors import AuthError
from calsync.google.web_auth import AuthorizationRefused, WebAuthorization
from calsync.push.receiver import NotificationReceiver

__all__ = ["STATE_COOKIE", "create_app"]

logger = logging.getLogger(__name__)

STATE_COOKIE = "calsync_oauth_state"
OAUTH_PATH = "/oauth/google"

#: Finds the profile the request's signed-in user may connect (``None``: refused).
CurrentProfile = Callable[[Request], str | None]


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
        await (
            request.body()
        )  # Calendar sends none; read whatever came, so the connection is reusable
        decision = await run_in_threadpool(receiver.handle, dict(request.headers))
        return Response(status_code=decision.status)

    return notifications


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
            return PlainTextResponse("Sign in to connect Google.", status_code=403)
        started = await run_in_threadpool(self.authorization.begin, profile_id)
        response = RedirectResponse(started.url, status_code=302)
        response.set_cookie(
            STATE_COOKIE,
            started.state,
            max_age=int(self.authorization.ttl),
            path=OAUTH_PATH,
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )
        return response

    async def callback(self, request: Request) -> Response:
        query = request.query_params
        if "error" in query:
            return self._page(400, f"Google did not connect: {query['error']}.")
        state, code = query.get("state"), query.get("code")
        if not state or not code:
            return self._page(400, "This is not an answer from Google.")
        try:
            await run_in_threadpool(self._complete, state, code, request.cookies.get(STATE_COOKIE))
        except AuthorizationRefused as exc:
            logger.warning("OAuth callback refused: %s", exc)
            return self._page(403, f"{exc}.")
        except AuthError as exc:
            logger.warning("OAuth code exchange failed: %s", exc)
            return self._page(502, "Google refused the authorisation; please start again.")
        return self._page(200, "Google is connected. You can close this window.")

    def _complete(self, state: str, code: str, cookie: str | None) -> str:
        return self.authorization.complete(state=state, code=code, browser_state=cookie)

    def _page(self, status: int, text: str) -> Response:
        response = PlainTextResponse(text, status_code=status)
        response.delete_cookie(STATE_COOKIE, path=OAUTH_PATH)
        return response
