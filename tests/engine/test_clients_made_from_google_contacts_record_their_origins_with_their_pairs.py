"""Clients made from contacts the Google user added to the sync group (inbound contacts) have
their origins (the contact each was made from) recorded in one write per chunk, in the commit
that records their pairs and never after their pairs; an origin that cannot be recorded fails
its client alone, and a pair that cannot be recorded keeps its origin."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from studio_world import USER, World, make_world

from calsync import ContactFields, Email, MemoryStateStore, Side, StateError
from calsync.model import Channel
from calsync.state import MappingRow

GROUP = "Weddings 2027"
CON = Channel.CONTACTS


class OriginLog(MemoryStateStore):
    """A memory store that notes, commit by commit (an outermost transaction, or a write on
    its own), the origins and pairs a run writes; refuses the origin of the remote id
    ``refused_origin`` and the pair of ``refused_pair``; and notes each pair put while its
    client's origin is not recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.commits: list[list[str]] = []
        self.refused_origin: str | None = None
        self.refused_pair: str | None = None
        self.paired_without_origin: list[str] = []
        self._open: list[str] | None = None
        self._depth = 0

    def _note(self, write: str) -> None:
        if self._open is None:
            self.commits.append([write])
        else:
            self._open.append(write)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        outermost = self._depth == 0
        if outermost:
            self._open = []
        self._depth += 1
        try:
            with super().transaction():
                yield
        finally:
            self._depth -= 1
            if outermost:
                if self._open:
                    self.commits.append(self._open)
                self._open = None

    def set_origin(
        self, profile_id: str, channel: Channel, host_id: str, remote_id: str | None
    ) -> None:
        if remote_id is not None and remote_id == self.refused_origin:
            raise StateError(f"the origin of {host_id} is refused")
        self._note("set_origin")
        super().set_origin(profile_id, channel, host_id, remote_id)

    def set_origins(
        self, profile_id: str, channel: Channel, origins: Mapping[str, str | None]
    ) -> None:
        if self.refused_origin in origins.values():
            raise StateError("an origin among them is refused")
        self._note(f"set_origins {len(origins)}")
        super().set_origins(profile_id, channel, origins)

    def put_mapping(self, row: MappingRow) -> None:
        if row.remote_id == self.refused_pair:
            raise StateError(f"the pair of {row.host_id} is refused")
        if row.channel is CON and not self.get_origins(row.profile_id, CON, [row.host_id]):
            self.paired_without_origin.append(row.host_id)
        super().put_mapping(row)

    def put_mappings(self, rows: Sequence[MappingRow]) -> None:
        self._note(f"put_mappings {len(rows)}")
        super().put_mappings(rows)


def google_users_contacts(count: int) -> tuple[World, OriginLog, list[str]]:
    """A world whose Google group holds ``count`` contacts the Google user made."""
    store = OriginLog()
    world = make_world(store, contacts=True, client_group=GROUP, inbound_contacts=True)
    made = []
    for n in range(count):
        fields = ContactFields(given_name=f"Guest {n}", emails=(Email(f"guest{n}@example.com"),))
        made.append(world.contacts.external_create(fields, groups=[GROUP]).id)
    return world, store, made


def made_from(world: World) -> dict[str, str]:
    """The studio's clients, by the Google contact each was made from."""
    return {c.remote_id: c.id for c in world.clients.contacts(USER).values() if c.remote_id}


def test_the_origins_of_imported_clients_are_one_write_in_the_commit_of_their_pairs() -> None:
    world, store, made = google_users_contacts(5)

    report = world.sync()

    assert report.count(Side.HOST, "created") == 5
    recorded = [c for c in store.commits if any(w.startswith(("set_origin", "put_")) for w in c)]
    assert recorded == [["set_origins 5", "put_mappings 5"]]
    clients = made_from(world)
    assert store.get_origins(world.profile.id, CON, clients.values()) == {
        client: contact for contact, client in clients.items()
    }
    assert sorted(clients) == sorted(made)


def test_no_pair_of_an_imported_client_is_recorded_before_its_origin() -> None:
    world, store, _ = google_users_contacts(3)

    world.sync()

    assert len(store.mappings(world.profile.id, CON)) == 3
    assert store.paired_without_origin == []


def test_a_client_whose_origin_cannot_be_recorded_fails_alone_unpaired() -> None:
    world, store, made = google_users_contacts(4)
    store.refused_origin = made[2]

    report = world.sync()

    assert [error.item for error in report.errors] == [made[2]]
    assert report.count(Side.HOST, "created") == 3
    paired = {row.remote_id for row in store.mappings(world.profile.id, CON).values()}
    assert paired == {made[0], made[1], made[3]}
    clients = made_from(world)
    origins = store.get_origins(world.profile.id, CON, clients.values())
    assert sorted(origins.values()) == sorted(paired)


def test_a_client_whose_pair_cannot_be_recorded_keeps_its_origin() -> None:
    world, store, made = google_users_contacts(3)
    store.refused_pair = made[1]

    report = world.sync()

    assert [error.item for error in report.errors] == [made[1]]
    client = made_from(world)[made[1]]
    assert client not in store.mappings(world.profile.id, CON)
    assert store.get_origins(world.profile.id, CON, [client]) == {client: made[1]}
