"""The studio's client groups have a change feed, from a client change log stamped as the
schedule's is: a client joining, changing in or leaving a group (or deleted) is a change of
that group, and a studio file restored from a backup answers ``HostRewound`` for a cursor
handed out after the backup. An older studio file gains the log when opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from studio.adapters import StudioClients, client_key
from studio.db import SCHEMA_VERSION, Studio

from calsync import HostRewound

GROUP, OTHER = "VIP", "Weddings"


def _copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _studio(path: Path) -> tuple[Studio, str]:
    studio = Studio(path)
    ann = studio.add_user("Ann")
    studio.add_group(GROUP)
    studio.add_group(OTHER)
    return studio, str(ann)


def _join(studio: Studio, first_name: str, *groups: str) -> int:
    client = studio.add_client(first_name)
    for group in groups:
        group_id = studio.group_id(group)
        assert group_id is not None
        studio.add_to_group(group_id, client)
    return client


def test_a_client_leaving_one_group_is_a_change_of_that_group_only(tmp_path: Path) -> None:
    studio, ann = _studio(tmp_path / "studio.sqlite3")
    clients = StudioClients(studio)
    sofia = _join(studio, "Sofia", GROUP, OTHER)
    cursors = {group: clients.change_cursor(ann, group) or "" for group in (GROUP, OTHER)}
    vip = studio.group_id(GROUP)
    assert vip is not None

    studio.remove_from_group(vip, sofia)
    studio.update_client(sofia, phone="+44 20 7946 0002")

    vip_changes = clients.changes_since(ann, GROUP, cursors[GROUP])
    wedding_changes = clients.changes_since(ann, OTHER, cursors[OTHER])
    assert ((), (client_key(sofia),)) == (vip_changes.changed, vip_changes.deleted)
    assert [client_key(sofia)] == [contact.id for contact in wedding_changes.changed]
    assert wedding_changes.deleted == ()
    studio.close()


def test_a_client_cursor_handed_out_after_the_backup_is_refused_by_the_restored_file(
    tmp_path: Path,
) -> None:
    path, backup = tmp_path / "studio.sqlite3", tmp_path / "backup.sqlite3"
    studio, ann = _studio(path)
    _join(studio, "Harriet", GROUP)
    _copy(path, backup)
    _join(studio, "Lena", GROUP)  # (after the backup: lost with the restore)
    cursor = StudioClients(studio).change_cursor(ann, GROUP)
    assert cursor is not None
    studio.close()
    _copy(backup, path)

    with Studio(path) as restored:
        clients = StudioClients(restored)
        with pytest.raises(HostRewound):
            clients.changes_since(ann, GROUP, cursor)
        _join(restored, "Oliver", GROUP)  # a new change at the lost change's position
        with pytest.raises(HostRewound):
            clients.changes_since(ann, GROUP, cursor)


def test_a_studio_file_of_schema_4_gains_the_client_change_log(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    studio, ann = _studio(path)
    harriet = _join(studio, "Harriet", GROUP)
    studio.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TABLE client_change_log")
    db.execute("PRAGMA user_version = 4")
    db.close()

    with Studio(path) as upgraded:
        clients = StudioClients(upgraded)
        cursor = clients.change_cursor(ann, GROUP)
        assert cursor is not None
        upgraded.update_client(harriet, last_name="Moss")
        changes = clients.changes_since(ann, GROUP, cursor)
        members = {contact.id for contact in clients.list_group(ann, GROUP)}
    with sqlite3.connect(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]

    assert (SCHEMA_VERSION, {client_key(harriet)}) == (version, members)
    assert [client_key(harriet)] == [contact.id for contact in changes.changed]
