"""Two host items naming one converted appointment in ``replaces`` (the host's mistake): the
first takes its pair over, the second is synced as a new item with its own event, and the
user is told once. Neither item's time is ever changed by the other."""

from __future__ import annotations

from studio_world import ANN, CAL, USER, World, session, timed

from calsync import EventFields


def test_a_second_item_replacing_the_same_appointment_is_a_new_item(world: World) -> None:
    world.calendar.external_create(CAL, EventFields("Call Ann", when=timed(2, 11)))
    world.sync()
    (unlinked_id,) = world.items()
    converted = world.schedule.convert(USER, unlinked_id, client=ANN, session_type="Portrait")
    second = world.schedule.add(USER, session("s99", replaces=unlinked_id))  # another time

    report = world.sync()
    again = world.sync()

    assert report.ok, report.summary()
    assert [w for w in report.warnings if "s99" in w] == [
        f"item s99 was synced as a new item: it replaces {unlinked_id}, as item "
        f"{converted.id} does, which took its place"
    ]
    assert again.writes == 0, again.summary()
    assert again.warnings == []
    items = world.items()
    assert (items[converted.id].when, items["s99"].when) == (converted.when, second.when)
    assert len(world.events()) == 2
    times = {str(e.fields.when) for e in world.events().values() if e.fields}
    assert times == {str(converted.when), str(second.when)}
