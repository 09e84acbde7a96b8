"""A synced contact found out of the Google group (the Google user took it out, or the studio
now syncs another group) is put in the group as any pair is synced: merged three ways, so an
edit made on either side since the last sync is kept, and one made on both is a conflict."""

from __future__ import annotations

from studio_world import GROUP, USER, World, client, make_world

from calsync import DeletionRules, MemoryStateStore, Phone, RemoteDeletion, Side

GOOGLE_PHONE = (Phone("+44 7700 900999"),)
STUDIO_PHONE = (Phone("+44 7700 900111"),)


def contacts_world(**options: object) -> World:
    return make_world(MemoryStateStore(), contacts=True, client_group=GROUP, **options)


def google_phones(world: World, group: str, contact_id: str) -> tuple[Phone, ...]:
    """The phones of the contact, which must be in ``group``."""
    fields = world.contacts.contacts(group)[contact_id].fields
    assert fields is not None
    return fields.phones


def synced(world: World) -> str:
    """Sync client c1 and return the id of its Google contact."""
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    (contact_id,) = world.contacts.contacts()
    return contact_id


def test_a_google_edit_to_a_contact_taken_out_of_the_group_reaches_the_studio() -> None:
    """Before, the contact was put back with the studio's old values: the edit was lost, and
    no conflict was reported."""
    world = contacts_world(inbound_contacts=True)
    contact_id = synced(world)
    world.contacts.external_update(contact_id, phones=GOOGLE_PHONE)
    world.contacts.external_remove_from_group(contact_id, GROUP)

    report = world.sync()

    assert report.ok, report.summary()
    assert world.clients.contacts(USER)["c1"].fields.phones == GOOGLE_PHONE
    assert google_phones(world, GROUP, contact_id) == GOOGLE_PHONE
    assert report.count(Side.HOST, "updated") == 1
    assert report.conflicts == []
    assert world.sync().writes == 0


def test_edits_on_both_sides_of_a_contact_out_of_the_group_are_merged() -> None:
    world = contacts_world(inbound_contacts=True)
    contact_id = synced(world)
    world.contacts.external_update(contact_id, phones=GOOGLE_PHONE)
    world.contacts.external_remove_from_group(contact_id, GROUP)
    world.clients.edit(USER, "c1", family_name="Smith-Jones")

    report = world.sync()

    assert report.ok, report.summary()
    for fields in (
        world.clients.contacts(USER)["c1"].fields,
        world.contacts.contacts(GROUP)[contact_id].fields,
    ):
        assert fields is not None
        assert (fields.family_name, fields.phones) == ("Smith-Jones", GOOGLE_PHONE)
    assert world.sync().writes == 0


def test_a_field_both_sides_changed_while_out_of_the_group_is_a_reported_conflict() -> None:
    world = contacts_world(inbound_contacts=True)
    contact_id = synced(world)
    world.contacts.external_update(contact_id, phones=GOOGLE_PHONE)
    world.contacts.external_remove_from_group(contact_id, GROUP)
    world.clients.edit(USER, "c1", phones=STUDIO_PHONE)

    report = world.sync()

    assert [(c.item, c.field) for c in report.conflicts] == [("c1", "phones")]
    winner = report.conflicts[0].winner  # the policy's choice, on both sides
    kept = STUDIO_PHONE if winner is Side.HOST else GOOGLE_PHONE
    assert world.clients.contacts(USER)["c1"].fields.phones == kept
    assert google_phones(world, GROUP, contact_id) == kept


def test_without_inbound_contacts_the_studio_values_go_back_with_the_contact() -> None:
    world = contacts_world()
    contact_id = synced(world)
    world.contacts.external_update(contact_id, phones=GOOGLE_PHONE)
    world.contacts.external_remove_from_group(contact_id, GROUP)

    report = world.sync()

    assert report.count(Side.HOST, "updated") == 0
    assert google_phones(world, GROUP, contact_id) == client("c1").fields.phones


def test_a_google_edit_survives_a_switch_of_the_sync_group() -> None:
    """The client is in both groups; its contact was edited in Google just before the studio
    chose the other group. Before, the contact was put in the new group with the studio's
    old values, and the user told it had left the Google group (it had not)."""
    world = make_world(MemoryStateStore(), contacts=True, client_group="A", inbound_contacts=True)
    world.clients.add(USER, client("c1"), groups=["A", "B"])
    world.sync()
    (contact_id,) = world.contacts.contacts()
    world.contacts.external_update(contact_id, phones=GOOGLE_PHONE)
    world.options(client_group="B")

    report = world.sync()

    assert report.ok, report.summary()
    assert world.clients.contacts(USER)["c1"].fields.phones == GOOGLE_PHONE
    assert google_phones(world, "B", contact_id) == GOOGLE_PHONE
    assert not any("left" in warning for warning in report.warnings)
    assert world.sync().writes == 0


def test_the_user_is_told_the_contact_was_not_in_the_group_and_is_in_it_now() -> None:
    world = contacts_world()
    contact_id = synced(world)
    world.contacts.external_remove_from_group(contact_id, GROUP)

    report = world.sync()

    assert report.warnings == [
        "the contact 'Ann Smith' (c1) was not in the Google group; it has been put in it"
    ]


def test_switching_the_sync_group_never_takes_a_client_out_of_the_new_group() -> None:
    """With ``DeletionRules(contact=DELETE_HOST)``, a contact the Google user takes out of the
    group takes its client out of the studio group. After a switch of the sync group, the
    contacts of clients in both groups are not in the new Google group yet: that is no
    user's doing, and before, those clients were taken out of the group the studio just
    chose."""
    world = make_world(
        MemoryStateStore(),
        contacts=True,
        client_group="A",
        inbound_contacts=True,
        deletion_rules=DeletionRules(contact=RemoteDeletion.DELETE_HOST),
    )
    world.clients.add(USER, client("c1"), groups=["A", "B"])
    world.clients.add(USER, client("c2", "Bea"), groups=["B"])
    world.sync()
    (contact_id,) = world.contacts.contacts()
    world.options(client_group="B")

    report = world.sync()

    assert report.ok, report.summary()
    assert report.count(Side.HOST, "deleted") == 0
    assert sorted(c.id for c in world.clients.list_group(USER, "B")) == ["c1", "c2"]
    assert contact_id in world.contacts.contacts("B")
    assert world.sync().writes == 0

    world.contacts.external_remove_from_group(contact_id, "B")  # now the user's doing
    assert world.sync().count(Side.HOST, "deleted") == 1
    assert [c.id for c in world.clients.list_group(USER, "B")] == ["c2"]
