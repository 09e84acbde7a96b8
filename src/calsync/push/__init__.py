"""Calendar push notifications: changes made in Google reach the studio in seconds.

* :class:`PushChannels` — one Google watch channel per profile's calendar: opened with a
  secret token, kept in the state store, renewed before expiry (new one first, then the old one
  stopped), stopped when sync is turned off, the calendar switched or the user forgotten.
* :class:`NotificationReceiver` — framework-neutral: the headers of Google's POST in, a
  :class:`Decision` (HTTP status, verdict) out; forged notifications are refused.
* :class:`SyncTrigger` — what a notification starts: the in-process
  :class:`~calsync.processor.SyncProcessor`, or a task queue; :class:`Debouncer` turns a burst
  into one request.

:mod:`calsync.web` serves the receiver over HTTP (Starlette, the ``web`` extra); nothing here
needs a web framework. See ``docs/push.md``.
"""

from __future__ import annotations

from calsync.push.channels import Polling, PushChannels, token_hash
from calsync.push.receiver import Decision, NotificationReceiver, Verdict
from calsync.push.trigger import CallbackTrigger, Debouncer, SyncTrigger

__all__ = [
    "CallbackTrigger",
    "Debouncer",
    "Decision",
    "NotificationReceiver",
    "Polling",
    "PushChannels",
    "SyncTrigger",
    "Verdict",
    "token_hash",
]
