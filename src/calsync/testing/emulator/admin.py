"""Admin endpoints under ``/emulator/v1/``: the Python control surface over HTTP.

- ``GET stats``: counters (``http_requests``, ``api_calls``, ``methods`` …).
- ``POST reset-stats``: zero the counters.
- ``POST expire-sync-tokens``: expire every Calendar and People sync token.
- ``POST advance-clock``: ``{"seconds": s}`` (time passes for sync tokens).
- ``POST expire-access-tokens``: minted access tokens answer 401 from now on.
- ``GET faults``, ``POST faults`` (JSON of ``inject_fault`` arguments), ``DELETE faults``.
- ``POST quota``: ``{"calls": n or null, "window_seconds": s, "status": 403 or 429}``.
- ``POST delete-calendar``: ``{"account": token or email, "calendar_id": id}``.
- ``POST rename-contact``: ``{"account": token or email, "resource_name": name}`` (and
  optionally ``"new_name"``) answers ``{"resource_name": new name}``.
- ``POST revoke-refresh-token``: ``{"refresh_token": t}``.
- ``POST issue-tokens``: ``{"email": e}`` (and ``"scopes"``, space-separated, by default
  ``calendar`` and ``contacts``) answers ``{"access_token", "refresh_token"}``.
- ``POST people-propagation-delay``: ``{"seconds": s}``.
- ``GET refused-zones``, ``POST refused-zones`` ``{"zones": [name, …]}`` (the zone names
  event writes are refused for; ``[]`` for none) answering ``{"zones": [...]}``.
- ``GET accounts/{token or email}``: the account snapshot as JSON.
- ``POST reset``: back to a fresh emulator.
- Push notifications: ``GET push/channels`` (the live watch channels), ``GET push/deliveries``
  (every delivery attempt), ``POST push/expire`` ``{"channel_id": id}`` (end it now),
  ``POST push/fail-deliveries`` ``{"count": n, "drop": false}`` (the next n attempts fail and
  are retried; with ``drop`` the next n messages are lost), ``POST push/delay-deliveries``
  ``{"seconds": s}``.

Bad input answers 400 ``{"error": "…"}``; admin requests are never counted or faulted.
"""

from __future__ import annotations

import inspect
import json
import logging
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from calsync.testing.emulator.push import admin_routes as push_admin_routes
from calsync.testing.emulator.wire import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from calsync.testing.emulator.core import EmulatorCore

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/emulator/v1/"


class AdminError(Exception):
    """A bad admin request (answered 400 or 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AdminEndpoints:
    """Routes ``/emulator/v1/…`` to :class:`EmulatorCore` methods."""

    def __init__(self, core: EmulatorCore) -> None:
        self.core = core
        self._routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("GET", "stats"): lambda _: core.stats(),
            ("POST", "reset-stats"): lambda _: core.reset_stats(),
            ("POST", "expire-sync-tokens"): lambda _: core.expire_sync_tokens(),
            ("POST", "advance-clock"): lambda b: core.advance_clock(float(_need(b, "seconds"))),
            ("POST", "expire-access-tokens"): lambda _: {"expired": core.expire_access_tokens()},
            ("GET", "faults"): lambda _: [f.describe() for f in core.faults.active()],
            ("POST", "faults"): self._inject,
            ("DELETE", "faults"): lambda _: core.clear_faults(),
            ("POST", "quota"): self._quota,
            ("POST", "delete-calendar"): self._delete_calendar,
            ("POST", "rename-contact"): self._rename_contact,
            ("POST", "revoke-refresh-token"): self._revoke,
            ("POST", "issue-tokens"): self._issue,
            ("POST", "people-propagation-delay"): lambda b: core.set_people_propagation_delay(
                float(_need(b, "seconds"))
            ),
            ("GET", "refused-zones"): lambda _: self._refused_zones(),
            ("POST", "refused-zones"): self._refuse_zones,
            ("POST", "reset"): lambda _: core.reset(),
        }
        self._routes.update(push_admin_routes(core.push))

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one admin request with JSON."""
        name = request.path[len(ADMIN_PREFIX) :]
        try:
            body = _json(request.body)
            if name.startswith("accounts/") and request.method == "GET":
                result: Any = self._account(urllib.parse.unquote(name[len("accounts/") :]))
            else:
                route = self._routes.get((request.method, name))
                if route is None:
                    raise AdminError(404, f"unknown admin endpoint {request.method} {name}")
                result = route(body)
        except AdminError as error:
            return ApiResponse.json(error.status, {"error": str(error)})
        except (KeyError, ValueError, TypeError) as error:
            return ApiResponse.json(400, {"error": f"{type(error).__name__}: {error}"})
        return ApiResponse.json(200, {} if result is None else result)

    def _inject(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - set(inspect.signature(self.core.inject_fault).parameters)
        if unknown:
            raise AdminError(400, f"unknown fault arguments: {sorted(unknown)}")
        return self.core.inject_fault(**body).describe()

    def _quota(self, body: dict[str, Any]) -> None:
        calls = body.get("calls")
        window = float(body.get("window_seconds", 60.0))
        self.core.set_quota(
            None if calls is None else int(calls), window, status=int(body.get("status", 403))
        )

    def _delete_calendar(self, body: dict[str, Any]) -> None:
        self.core.delete_calendar(str(_need(body, "account")), str(_need(body, "calendar_id")))

    def _rename_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        account, name = str(_need(body, "account")), str(_need(body, "resource_name"))
        new_name = body.get("new_name")
        try:
            renamed = self.core.rename_contact(account, name, new_name and str(new_name))
        except KeyError:
            raise AdminError(404, f"no contact {name}") from None
        return {"resource_name": renamed}

    def _revoke(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"revoked": self.core.revoke_refresh_token(str(_need(body, "refresh_token")))}

    def _issue(self, body: dict[str, Any]) -> dict[str, Any]:
        email = str(_need(body, "email"))
        if "scopes" in body:
            access, refresh = self.core.issue_tokens(email, str(body["scopes"]))
        else:
            access, refresh = self.core.issue_tokens(email)
        return {"access_token": access, "refresh_token": refresh}

    def _refused_zones(self) -> dict[str, Any]:
        return {"zones": sorted(self.core.state.refused_zones)}

    def _refuse_zones(self, body: dict[str, Any]) -> dict[str, Any]:
        zones = _need(body, "zones")
        if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
            raise AdminError(400, "zones must be a list of zone names")
        self.core.set_refused_zones(zones)
        return self._refused_zones()

    def _account(self, key: str) -> dict[str, Any]:
        return attrs.asdict(self.core.account(key))


def _json(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise AdminError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise AdminError(400, "the body must be a JSON object")
    return data


def _need(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise AdminError(400, f"missing {name}")
    return body[name]
