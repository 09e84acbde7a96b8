"""Batched contact writes: runs of creates, updates and deletes sent through People's batch
methods, each write still getting its own outcome.

People applies ``batchUpdateContacts`` and ``batchDeleteContacts`` atomically: one stale etag
or one missing contact refuses the whole call. A batch refused as a whole is therefore
replayed one contact at a time. ``batchCreateContacts`` is checked whole before anything is
created, so one person Google refuses (an invalid phone number: 400) refuses the batch; such a
definite refusal (a 4xx other than rate and usage limits, permissions and authorisation)
proves nothing was created, and the creates are replayed one at a time (``createContact``
each), so only the refused contact fails. A batch create that fails ambiguously (5xx, broken
connection, timeout) is not replayed: it may have happened, and the engine's create intents
settle that on the next run. Everything is sent in order, one request at a time (Google asks
for sequential mutations per user), every call paced by the user's quota.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from calsync.backends import (
    ContactWrite,
    CreateContact,
    DeleteContact,
    RemoteContact,
    UpdateContact,
    WriteResult,
)
from calsync.errors import (
    AuthError,
    BackendError,
    CalsyncError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    QuotaExceeded,
    RateLimited,
    TransientError,
)
from calsync.google.calls import Caller
from calsync.google.translate import PERSON_FIELDS, Skipped, person_body
from calsync.model import ContactFields, Marker

__all__ = ["BATCH_MUTATE_MAX", "MY_CONTACTS", "UPDATE_MASK", "ContactBatches"]

logger = logging.getLogger(__name__)

#: People's limit on batch create / update / getBatchGet.
BATCH_MUTATE_MAX = 200
MY_CONTACTS = "contactGroups/myContacts"
UPDATE_MASK = ",".join(
    (
        "names",
        "organizations",
        "phoneNumbers",
        "emailAddresses",
        "addresses",
        "biographies",
        "memberships",
        "clientData",
    )
)
T = TypeVar("T")


class ContactsAccess(Protocol):
    """What the batches need from the contacts backend (which owns the contact cache)."""

    caller: Caller
    batch_size: int

    @property
    def people(self) -> Any:
        """The service's ``people()`` resource, built once per backend."""

    def write_one(self, group_id: str, write: ContactWrite) -> WriteResult[RemoteContact]: ...
    def is_known(self, contact_id: str, etag: str) -> bool: ...
    def update_body(
        self,
        group_id: str,
        contact_id: str,
        fields: ContactFields,
        marker: Marker | None,
        etag: str,
        *,
        fetch: bool = True,
    ) -> dict[str, Any]: ...
    def remember(self, data: Any) -> RemoteContact | Skipped: ...
    def forget(self, contact_id: str) -> None: ...
    def read(self, data: Any) -> RemoteContact: ...


class ContactBatches:
    """The writes of one ``write_contacts`` call."""

    def __init__(self, backend: ContactsAccess, group_id: str) -> None:
        self.backend = backend
        self.group_id = group_id
        self.people = backend.people
        self.caller = backend.caller

    def write(self, writes: Sequence[ContactWrite]) -> list[WriteResult[RemoteContact]]:
        results: list[WriteResult[RemoteContact]] = []
        size = max(1, min(self.backend.batch_size, self.caller.pacer.burst))
        for run in _runs(writes, size):
            first = run[0]
            if isinstance(first, CreateContact):
                results += self._creates(_only(run, CreateContact))
            elif isinstance(first, UpdateContact):
                results += self._updates(_only(run, UpdateContact))
            else:
                results += self._deletes(_only(run, DeleteContact))
        return results

    def _one(self, write: ContactWrite) -> WriteResult[RemoteContact]:
        return self.backend.write_one(self.group_id, write)

    # -- creates -------------------------------------------------------------------------

    def _creates(self, writes: list[CreateContact]) -> list[WriteResult[RemoteContact]]:
        if len(writes) == 1:
            return [self._one(writes[0])]
        groups = [MY_CONTACTS, self.group_id]
        contacts = [
            {"contactPerson": person_body(w.fields, marker=w.marker, groups=groups)} for w in writes
        ]
        request = self.people.batchCreateContacts(
            body={"contacts": contacts, "readMask": PERSON_FIELDS}
        )
        try:
            answer = self.caller.execute(request, cost=len(writes), safe=False)
        except CalsyncError as exc:
            if not _refused(exc):  # it may have happened, or no single create would do better
                return [WriteResult(error=exc) for _ in writes]
            logger.info("batch create of %d contacts refused (%s): one at a time", len(writes), exc)
            return self._create_each(writes)
        created = answer.get("createdPeople", [])
        return [self._result(created[i] if i < len(created) else None) for i in range(len(writes))]

    def _create_each(self, writes: list[CreateContact]) -> list[WriteResult[RemoteContact]]:
        """The creates of a refused batch, one ``createContact`` each (paced and retried like
        any single create). A failure that concerns the user rather than the contact (auth,
        rate or usage limits) stops the replay: the creates not yet sent get that error."""
        results: list[WriteResult[RemoteContact]] = []
        for write in writes:
            result = self._one(write)
            results.append(result)
            if isinstance(result.error, STOP_REPLAY):
                rest = len(writes) - len(results)
                results += [WriteResult(error=result.error) for _ in range(rest)]
                break
        return results

    # -- updates -------------------------------------------------------------------------

    def _updates(self, writes: list[UpdateContact]) -> list[WriteResult[RemoteContact]]:
        if len(writes) == 1 or len({w.contact_id for w in writes}) != len(writes):
            return [self._one(w) for w in writes]
        self._prefetch(
            [w.contact_id for w in writes if not self.backend.is_known(w.contact_id, w.etag)]
        )
        bodies: dict[str, Any] = {}
        early: dict[int, WriteResult[RemoteContact]] = {}
        for index, w in enumerate(writes):
            try:
                bodies[w.contact_id] = self.backend.update_body(
                    self.group_id, w.contact_id, w.fields, w.marker, w.etag, fetch=False
                )
            except CalsyncError as exc:
                early[index] = WriteResult(error=exc)
        answer = self._send_updates(bodies) if bodies else {}
        if answer is None:  # refused as a whole: give each its own outcome
            return [early.get(i) or self._one(w) for i, w in enumerate(writes)]
        return [
            early.get(i) or self._result(answer.get(w.contact_id)) for i, w in enumerate(writes)
        ]

    def _send_updates(self, bodies: dict[str, Any]) -> dict[str, Any] | None:
        body = {"contacts": bodies, "updateMask": UPDATE_MASK, "readMask": PERSON_FIELDS}
        request = self.people.batchUpdateContacts(body=body)
        try:
            answer = self.caller.execute(request, cost=len(bodies))
        except (PreconditionFailed, InvalidRequest, NotFound) as exc:
            logger.info("batch update of %d contacts refused (%s): one at a time", len(bodies), exc)
            return None
        except CalsyncError as exc:
            logger.info("batch update of %d contacts failed: %s", len(bodies), exc)
            return dict.fromkeys(bodies, exc)
        result: dict[str, Any] = answer.get("updateResult", {})
        return result

    def _prefetch(self, names: list[str]) -> None:
        """Read the contacts about to be updated in one call (``people:batchGet``)."""
        for start in range(0, len(names), BATCH_MUTATE_MAX):
            chunk = names[start : start + BATCH_MUTATE_MAX]
            request = self.people.getBatchGet(resourceNames=chunk, personFields=PERSON_FIELDS)
            try:
                answer = self.caller.execute(request)
            except CalsyncError as exc:  # each update then reads its contact itself
                logger.info("could not read %d contacts ahead of updating: %s", len(chunk), exc)
                return
            found = set()
            for response in answer.get("responses", []):
                if isinstance(response.get("person"), dict):
                    contact = self.backend.remember(response["person"])
                    if not isinstance(contact, Skipped):
                        found.add(contact.id)
            for name in set(chunk) - found:
                self.backend.forget(name)

    # -- deletes -------------------------------------------------------------------------

    def _deletes(self, writes: list[DeleteContact]) -> list[WriteResult[RemoteContact]]:
        doomed = [w.contact_id for w in writes if not w.keep]
        if len(doomed) < 2 or len(set(doomed)) != len(doomed):
            return [self._one(write) for write in writes]
        request = self.people.batchDeleteContacts(body={"resourceNames": doomed})
        try:
            self.caller.execute(request, cost=len(doomed))
        except CalsyncError as exc:  # atomic: one missing contact refuses all
            logger.info("batch delete of %d contacts refused (%s): one at a time", len(doomed), exc)
            return [self._one(write) for write in writes]
        for name in doomed:
            self.backend.forget(name)
        return [WriteResult() if not w.keep else self._one(w) for w in writes]

    def _result(self, response: Any) -> WriteResult[RemoteContact]:
        if isinstance(response, CalsyncError):
            return WriteResult(error=response)
        if not isinstance(response, dict):
            return WriteResult(error=BackendError("Google's batch answer omitted a contact"))
        status = response.get("status") or {}
        code = int(response.get("httpStatusCode") or 200)
        if not isinstance(response.get("person"), dict) or status.get("code") or code >= 300:
            message = status.get("message") or f"Google answered {code}"
            return WriteResult(error=BackendError(f"contact not written: {message}", status=code))
        try:
            return WriteResult(self.backend.read(response["person"]))
        except CalsyncError as exc:
            return WriteResult(error=exc)


#: Failures of one replayed create that would be every later one's too.
STOP_REPLAY = (AuthError, RateLimited, QuotaExceeded)


def _refused(exc: CalsyncError) -> bool:
    """Whether a batch create was refused for what it carried: a definite 4xx other than rate
    and usage limits, permissions and authorisation (which concern the user, not a contact).
    People checks every person of the batch before creating any, so nothing was created."""
    if not isinstance(exc, BackendError) or isinstance(
        exc, (TransientError, AuthError, PermissionDenied, QuotaExceeded)
    ):
        return False
    return exc.status is not None and 400 <= exc.status < 500


def _runs(writes: Sequence[ContactWrite], size: int) -> list[list[ContactWrite]]:
    """``writes`` cut into runs of one kind of write, each at most ``size`` long."""
    runs: list[list[ContactWrite]] = []
    for write in writes:
        if runs and type(runs[-1][0]) is type(write) and len(runs[-1]) < size:
            runs[-1].append(write)
        else:
            runs.append([write])
    return runs


def _only(run: Sequence[Any], kind: type[T]) -> list[T]:
    return [w for w in run if isinstance(w, kind)]
