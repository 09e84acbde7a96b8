"""Build real google-api-python-client services, for Google or for an emulator at a base URL.

The client ignores ``client_options.api_endpoint`` when it builds batch requests (its batch URI
comes from the discovery document's ``rootUrl``).  So for a base URL these helpers load the
static discovery document shipped with the client, rewrite its ``rootUrl`` and build from it:
normal calls go to ``{base_url}/calendar/v3/…`` and ``{base_url}/v1/…``, and
``service.new_batch_http_request()`` goes to ``{base_url}/batch/calendar/v3`` and
``{base_url}/batch``.  Without a base URL they build the production services from the same
static documents (no network fetch).  Each document is parsed once per process and shared by
every service built from it; build a user's services once and keep them (see
:class:`~calsync.google.account.GoogleAccount`).

The client builds a resource's methods, docstrings included, every time it is asked for one
(``service.events()``: eleven methods, about half a millisecond each, most of a quiet run's
CPU). :func:`resource` builds each resource once per process and API root and gives every
service a copy bound to that service's own HTTP transport (and so its own credentials).

A service whose credentials say they were not granted any scope calsync syncs its API with
(:data:`~calsync.google.auth.SYNC_SCOPES`: a People service for a token without Contacts)
sends nothing: each of its calls raises :class:`~calsync.errors.AccessNotGranted` at once,
before any token refresh or request, as Google would answer 403
``ACCESS_TOKEN_SCOPE_INSUFFICIENT``. Credentials that do not say (no scopes stored) are sent
on, and Google's answer decides.

Example::

    from google.oauth2.credentials import Credentials
    from calsync.google.services import build_calendar_service, new_batch_request

    calendar = build_calendar_service(Credentials(token="alice"), base_url=google.base_url)
    batch = new_batch_request(calendar, callback=on_result)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

import google_auth_httplib2
import httplib2
from google.auth.credentials import Credentials
from googleapiclient.discovery import Resource, build_from_document, fix_method_name
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.http import BatchHttpRequest, build_http

from calsync.backends import before_write
from calsync.errors import AccessNotGranted
from calsync.google.auth import channels_not_granted, granted_scopes
from calsync.google.batch import FastBatchHttpRequest
from calsync.model import Channel

logger = logging.getLogger(__name__)

ApiName = Literal["calendar", "people"]
BatchCallback = Callable[[str, Any, Exception | None], None]
_VERSIONS: dict[ApiName, str] = {"calendar": "v3", "people": "v1"}
_CHANNELS: dict[ApiName, Channel] = {"calendar": Channel.CALENDAR, "people": Channel.CONTACTS}
_SERVICE_NAMES: dict[ApiName, str] = {"calendar": "Google Calendar", "people": "Google Contacts"}

__all__ = [
    "BatchCallback",
    "batch_uri",
    "build_calendar_service",
    "build_people_service",
    "new_batch_request",
    "resource",
]


@cache
def _static_document(api: ApiName) -> str:
    document = get_static_doc(api, _VERSIONS[api])
    if document is None:
        raise RuntimeError(f"google-api-python-client ships no discovery document for {api}")
    return str(document)


_parsed: dict[ApiName, dict[str, Any]] = {}
_parsed_lock = threading.Lock()


def _parsed_document(api: ApiName) -> dict[str, Any]:
    """The static discovery document of ``api``, parsed once per process and shared.

    The client fixes up each method's description in place the first time it builds the
    method (it adds the common parameters): to share the document between threads, every
    resource is built once here, under the lock, so later builds only re-assign what is
    there and never resize a dict another thread is reading.
    """
    with _parsed_lock:
        document = _parsed.get(api)
        if document is None:
            document = json.loads(_static_document(api))
            _build_every_resource(build_from_document(document, http=httplib2.Http()))
            _parsed[api] = document
        return document


def _build_every_resource(resource: Any) -> None:
    desc: dict[str, Any] = resource._resourceDesc
    for name in desc.get("resources", {}):
        _build_every_resource(getattr(resource, fix_method_name(name))())


def _document_for(api: ApiName, base_url: str | None) -> dict[str, Any]:
    document = _parsed_document(api)
    if base_url is None:
        return document
    # a shallow copy: only ``rootUrl`` differs, the (settled) descriptions are shared
    return {**document, "rootUrl": base_url.rstrip("/") + "/"}


class _WriteCheckedHttp:
    """An ``httplib2.Http`` (wrapped) that calls :func:`calsync.backends.before_write` right
    before each request it sends.

    The credentials' transport (``AuthorizedHttp``) refreshes an expired token inside a
    request and sends the request again, and a batch sends its parts Google answered 401
    again after refreshing: both after the caller's own check. A token service that stalls
    past the lease's time would let a write out after the run lost its lease. Under the
    credentials, every send (the re-sends included) is checked at the last moment; outside
    the engine's writes the check does nothing."""

    def __init__(self, http: Any) -> None:
        object.__setattr__(self, "_http", http)

    def request(self, *args: Any, **kwargs: Any) -> Any:
        """``httplib2.Http.request``, once the run's checkpoint let the request go."""
        before_write()
        return self._http.request(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._http, name, value)


def _authorized_http(credentials: Credentials | None, http: httplib2.Http | None) -> Any:
    if http is None:
        if credentials is None:
            return None  # the client's own default credentials
        http = build_http()  # what the client builds for credentials
    checked = _WriteCheckedHttp(http)
    if credentials is None:
        return checked
    return google_auth_httplib2.AuthorizedHttp(credentials, http=checked)


class _NotGrantedHttp:
    """The transport of a service its credentials were not granted: every request raises
    :class:`~calsync.errors.AccessNotGranted` and none is sent (nor a token refreshed)."""

    def __init__(self, api: ApiName) -> None:
        self.api = api

    def request(self, *args: Any, **kwargs: Any) -> Any:
        """Refuse the request, as Google would with 403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT``."""
        logger.debug("not sent: the credentials were not granted %s", self.api)
        raise AccessNotGranted(
            f"the saved Google authorisation does not allow {_SERVICE_NAMES[self.api]}"
        )

    def close(self) -> None:
        """Nothing to close: no connection was opened."""


def _granted(api: ApiName, credentials: Credentials | None) -> bool:
    """Whether ``credentials`` may reach ``api`` as far as they tell (unknown: yes)."""
    missing = channels_not_granted(granted_scopes(credentials))
    return missing is None or _CHANNELS[api] not in missing


def _build(
    api: ApiName,
    credentials: Credentials | None,
    base_url: str | None,
    http: httplib2.Http | None,
) -> Resource:
    authorized: Any
    if _granted(api, credentials):
        authorized = _authorized_http(credentials, http)
    else:
        authorized = _NotGrantedHttp(api)
    auth: dict[str, Any] = {"http": authorized} if authorized else {"credentials": credentials}
    logger.debug("building %s service against %s", api, base_url or "Google")
    return build_from_document(_document_for(api, base_url), **auth)


def build_calendar_service(
    credentials: Credentials | None,
    *,
    base_url: str | None = None,
    http: httplib2.Http | None = None,
) -> Resource:
    """A Calendar v3 service; against ``base_url`` (an emulator) when given.

    ``http`` is an optional ``httplib2.Http`` transport (e.g. with a timeout); the
    credentials are applied on top of it, and each request it sends (a re-send after a token
    refresh too) first calls :func:`calsync.backends.before_write`.  Returns a
    googleapiclient ``Resource``.
    """
    return _build("calendar", credentials, base_url, http)


def build_people_service(
    credentials: Credentials | None,
    *,
    base_url: str | None = None,
    http: httplib2.Http | None = None,
) -> Resource:
    """A People v1 service; against ``base_url`` (an emulator) when given.

    Same arguments and return value as :func:`build_calendar_service`.
    """
    return _build("people", credentials, base_url, http)


def batch_uri(api: ApiName, base_url: str | None = None) -> str:
    """The batch endpoint of ``api`` at ``base_url`` (Google's when None)."""
    document = _document_for(api, base_url)
    root = document["rootUrl"]
    return str(root + document.get("batchPath", "batch"))


def new_batch_request(
    service: Resource, *, callback: BatchCallback | None = None
) -> BatchHttpRequest:
    """A batch for ``service``, sent to the same host as the service's own calls.

    Services built by this module carry the right batch URI in their discovery document. The
    batch is a :class:`~calsync.google.batch.FastBatchHttpRequest`: the client's batch, with
    the same bytes on the wire, written and read without the stdlib ``email`` package.
    """
    uri = service.new_batch_http_request()._batch_uri
    return FastBatchHttpRequest(callback=callback, batch_uri=uri)


_prototypes: dict[tuple[str, str, str, tuple[str, ...]], Resource] = {}
_prototypes_lock = threading.Lock()


def resource(service: Resource, *path: str) -> Resource:
    """``service.events()`` as ``resource(service, "events")``, ``service.people()
    .connections()`` as ``resource(service, "people", "connections")``: the same resource,
    without building its methods again.

    The resource is built once per API and root URL, from a service without credentials;
    each call returns a copy whose methods are bound to the copy, which holds ``service``'s
    HTTP transport. Every method reads the transport, base URL and model from its resource
    when called, so a copy's requests go out with ``service``'s credentials only.
    """
    root: dict[str, Any] = service._rootDesc
    key = (str(root["name"]), str(root["version"]), str(root["rootUrl"]), path)
    with _prototypes_lock:
        prototype = _prototypes.get(key)
        if prototype is None:
            prototype = build_from_document(root, http=httplib2.Http())
            for name in path:
                prototype = getattr(prototype, name)()
            _prototypes[key] = prototype
    return _bound_copy(prototype, service._http)


def _bound_copy(prototype: Resource, http: Any) -> Resource:
    # not copy.copy: Resource's __setstate__ would build every method again
    copy: Resource = Resource.__new__(Resource)
    copy.__dict__.update(prototype.__dict__)
    copy._http = http
    copy._credentials_validated = False
    copy._dynamic_attrs = list(prototype._dynamic_attrs)
    for name in prototype._dynamic_attrs:
        value = prototype.__dict__[name]
        if getattr(value, "__self__", None) is prototype:  # a method: bind it to the copy
            copy.__dict__[name] = value.__func__.__get__(copy, Resource)
    return copy
