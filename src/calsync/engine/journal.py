"""The create journal of one channel of one run.

Every remote create is journaled in the state store, with the fields it writes, before it is
sent: after a crash the intent proves which host item the create was for and is the base the
item is adopted with (see :mod:`calsync.engine.planner`). The journal also keeps each
journaled base until its pair is recorded, so a create's base is encoded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Generic

from calsync.engine.actions import Action, CreateRemote
from calsync.engine.fields import encode_base
from calsync.engine.records import F
from calsync.model import Channel
from calsync.state.base import PendingCreate, StateStore

__all__ = ["CreateJournal"]


class CreateJournal(Generic[F]):
    """The intents of one channel of one profile, as a run writes and records them."""

    def __init__(self, store: StateStore, profile_id: str, channel: Channel, now: datetime):
        self.store, self.profile_id, self.channel, self.now = store, profile_id, channel, now
        #: the creates this run journaled and has not recorded as pairs yet: host id ->
        #: (fields, their encoded base); an entry goes once its pair is recorded, so the
        #: entries live for one batch, not for the whole run
        self.journaled: dict[str, tuple[F, str]] = {}

    def record(self, actions: Sequence[Action[F]]) -> None:
        """Journal the creates among ``actions``, about to be sent, with their fields."""
        creates = [a for a in actions if isinstance(a, CreateRemote)]
        if not creates:
            return
        intents = []
        for action in creates:
            base = encode_base(action.fields)
            self.journaled[action.host_id] = (action.fields, base)
            intents.append(
                PendingCreate(self.profile_id, self.channel, action.host_id, self.now, base)
            )
        self.store.add_pendings(intents)

    def encoded(self, host_id: str, fields: F) -> str:
        """The base of ``fields``, encoded once: a create's fields were encoded when its
        intent was journaled."""
        journaled = self.journaled.get(host_id)
        if journaled is not None and journaled[0] is fields:
            return journaled[1]
        return encode_base(fields)

    def recorded(self, host_id: str) -> None:
        """The pair of ``host_id`` is recorded (its intent is gone with it)."""
        self.journaled.pop(host_id, None)

    def finish(self, complete: bool) -> None:
        """After a complete listing was applied, older intents have done their work: every
        item they announced was adopted or is gone. Intents journaled by this run and not
        recorded as pairs (their create failed) stay."""
        if not complete:
            return
        store = self.store
        for host_id in store.pending(self.profile_id, self.channel):
            if host_id not in self.journaled:
                store.remove_pending(self.profile_id, self.channel, host_id)
