"""A run under new options that fails half way leaves pairs recorded under those options. The
change cursors stay those taken under the old options; if the user then switches back to the
old options, the next run must not read the feeds from those cursors: it would never see the
new pairs leave its scope."""

from __future__ import annotations

from studio_world import GROUP, USER, client, make_world

from calsync import ContactFields, MemoryStateStore, TransientError
from calsync.model import Channel

NS = "studio.u7"


def test_a_client_of_the_other_group_is_not_put_in_the_google_group_after_switching_back() -> None:
    """The sync group goes from A to B and back. The run under B imported a Google contact of
    group B as a client of B, then failed on another write. Before, the run back under A read
    the studio's change feed from A's old cursor, kept the B-only client's pair, and put its
    contact in Google group A, telling the user it "was not in the Google group"."""
    world = make_world(MemoryStateStore(), contacts=True, client_group=GROUP, inbound_contacts=True)
    world.clients.change_feed = True
    world.clients.add(USER, client("c1"), [GROUP, "Portraits"])
    world.sync()
    world.options(client_group="Portraits")
    made = world.contacts.external_create(
        ContactFields(given_name="Bea", family_name="Stone"), groups=["Portraits"]
    )
    world.contacts.fail_next("update_contact", TransientError("503 backend error"))
    failed = world.sync()
    assert not failed.ok  # c1's contact could not be put in Portraits; Bea came in as c2
    (imported,) = [c for c in world.clients.members(USER, "Portraits") if c != "c1"]

    world.options(client_group=GROUP)
    report = world.sync()

    assert report.ok, report.summary()
    assert report.warnings == []
    assert made.id not in world.contacts.contacts(GROUP)
    assert imported not in world.store.mappings(NS, Channel.CONTACTS)
    assert imported in world.clients.contacts(USER)  # nothing deleted in the studio
    assert made.id in world.contacts.contacts("Portraits")  # nor in Google
    assert world.sync().writes == 0
