"""calendarList insert/update/patch/delete, colors.get and settings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import new_calendar, timed_event

pytestmark = pytest.mark.emulator

HEX = re.compile(r"^#[0-9a-f]{6}$")


def listed_ids(calendar: Any, **params: Any) -> set[str]:
    return {item["id"] for item in calendar.calendarList().list(**params).execute()["items"]}


def test_a_calendar_removed_from_the_list_keeps_its_events(target, calendar):
    studio = new_calendar(target, calendar)
    calendar.events().insert(calendarId=studio["id"], body=timed_event()).execute()
    calendar.calendarList().delete(calendarId=studio["id"]).execute()
    assert studio["id"] not in listed_ids(calendar)
    with pytest.raises(HttpError) as caught:
        calendar.calendarList().get(calendarId=studio["id"]).execute()
    assert caught.value.status_code == 404
    events = calendar.events().list(calendarId=studio["id"]).execute()["items"]
    assert len(events) == 1


def test_a_removed_calendar_can_be_inserted_back_into_the_list(target, calendar):
    studio = new_calendar(target, calendar)
    calendar.calendarList().delete(calendarId=studio["id"]).execute()
    entry = calendar.calendarList().insert(body={"id": studio["id"], "colorId": "7"}).execute()
    assert (entry["id"], entry["colorId"]) == (studio["id"], "7")
    assert studio["id"] in listed_ids(calendar)


def test_an_incremental_list_reports_a_removed_entry_as_deleted(target, calendar):
    target.require_emulator()
    studio = new_calendar(target, calendar)
    token = calendar.calendarList().list().execute()["nextSyncToken"]
    calendar.calendarList().delete(calendarId=studio["id"]).execute()
    items = calendar.calendarList().list(syncToken=token).execute()["items"]
    assert [(item["id"], item.get("deleted")) for item in items] == [(studio["id"], True)]


def test_inserting_a_calendar_the_account_cannot_see_answers_404(target, calendar):
    target.require_emulator()
    with pytest.raises(HttpError) as caught:
        calendar.calendarList().insert(body={"id": "nobody@group.calendar.google.com"}).execute()
    assert caught.value.status_code == 404


def test_the_primary_calendar_cannot_be_removed_from_the_list(target, calendar):
    target.require_emulator()
    with pytest.raises(HttpError) as caught:
        calendar.calendarList().delete(calendarId="primary").execute()
    assert caught.value.status_code == 400


def test_a_color_id_sets_the_palette_colors(target, calendar):
    studio = new_calendar(target, calendar)
    palette = calendar.colors().get().execute()["calendar"]
    entry = calendar.calendarList().patch(calendarId=studio["id"], body={"colorId": "3"})
    entry = entry.execute()
    assert entry["colorId"] == "3"
    assert entry["backgroundColor"] == palette["3"]["background"]


def test_rgb_colors_need_color_rgb_format_and_pick_the_nearest_color_id(target, calendar):
    target.require_emulator()
    studio = new_calendar(target, calendar)
    entry = (
        calendar.calendarList()
        .patch(
            calendarId=studio["id"],
            colorRgbFormat=True,
            body={"backgroundColor": "#F83A20", "foregroundColor": "#FFFFFF"},
        )
        .execute()
    )
    assert (entry["backgroundColor"], entry["foregroundColor"]) == ("#f83a20", "#ffffff")
    assert entry["colorId"] == "3"


def test_a_patch_keeps_the_other_settings_and_an_update_replaces_them(target, calendar):
    target.require_emulator()
    studio = new_calendar(target, calendar)
    entries = calendar.calendarList()
    entries.patch(calendarId=studio["id"], body={"summaryOverride": "Mine"}).execute()
    patched = entries.patch(calendarId=studio["id"], body={"colorId": "5"}).execute()
    assert (patched["summaryOverride"], patched["colorId"]) == ("Mine", "5")
    updated = entries.update(calendarId=studio["id"], body={"colorId": "6"}).execute()
    assert "summaryOverride" not in updated
    assert updated["summary"] == studio["summary"]


def test_hidden_entries_are_listed_only_with_show_hidden(target, calendar):
    studio = new_calendar(target, calendar)
    entry = calendar.calendarList().patch(calendarId=studio["id"], body={"hidden": True})
    assert entry.execute()["hidden"] is True
    assert studio["id"] not in listed_ids(calendar)
    assert studio["id"] in listed_ids(calendar, showHidden=True)


def test_colors_are_googles_static_palette(calendar):
    colors = calendar.colors().get().execute()
    assert colors["kind"] == "calendar#colors"
    assert len(colors["calendar"]) >= 24
    assert len(colors["event"]) >= 11
    for palette in (colors["calendar"], colors["event"]):
        for color in palette.values():
            assert HEX.match(color["background"])
            assert HEX.match(color["foreground"])
    entry = calendar.calendarList().get(calendarId="primary").execute()
    assert entry["colorId"] in colors["calendar"]


def test_the_timezone_setting_follows_the_primary_calendar(target, calendar):
    target.require_emulator()
    calendar.calendars().patch(calendarId="primary", body={"timeZone": "Europe/Zurich"}).execute()
    setting = calendar.settings().get(setting="timezone").execute()
    assert (setting["kind"], setting["id"], setting["value"]) == (
        "calendar#setting",
        "timezone",
        "Europe/Zurich",
    )


def test_settings_list_and_an_unknown_setting_answers_404(calendar):
    settings = calendar.settings().list().execute()
    ids = {item["id"] for item in settings["items"]}
    assert {"timezone", "weekStart", "locale"} <= ids
    assert "nextSyncToken" in settings
    with pytest.raises(HttpError) as caught:
        calendar.settings().get(setting="noSuchSetting").execute()
    assert caught.value.status_code == 404


def test_an_incremental_settings_list_reports_a_changed_timezone(target, calendar):
    target.require_emulator()
    token = calendar.settings().list().execute()["nextSyncToken"]
    assert calendar.settings().list(syncToken=token).execute()["items"] == []
    calendar.calendars().patch(calendarId="primary", body={"timeZone": "Asia/Tokyo"}).execute()
    items = calendar.settings().list(syncToken=token).execute()["items"]
    assert [(item["id"], item["value"]) for item in items] == [("timezone", "Asia/Tokyo")]
