"""A token file that cannot be opened (its directory missing, a directory, not a database) is
reported as the state store's file is: ``calsync: token store '…': …``, exit status 2, no
sqlite3 traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from calsync.cli import main
from calsync.errors import StateUnavailable
from calsync.tokens import SqliteTokenStore, StoredToken


def garbage(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.sqlite3"
    path.write_bytes(bytes(range(256)) * 16)  # not a SQLite header
    return path


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("missing/tokens.sqlite3", "unable to open database file"),
        (".", "unable to open database file"),
        ("tokens.sqlite3", "file is not a database"),
    ],
)
def test_opening_a_token_file_that_is_no_database_is_a_state_error_naming_the_file(
    tmp_path: Path, name: str, why: str
) -> None:
    garbage(tmp_path)
    path = tmp_path / name

    with pytest.raises(StateUnavailable) as raised:
        SqliteTokenStore(path)

    assert str(raised.value) == f"token store {str(path)!r}: {why}"
    assert isinstance(raised.value.__cause__, sqlite3.Error)


def test_a_token_file_damaged_after_it_was_opened_fails_each_call_the_same_way(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens.sqlite3"
    store = SqliteTokenStore(path)
    store.save("p", StoredToken("refresh"))
    path.write_bytes(bytes(range(256)) * 16)

    for call in (
        lambda: store.load("p"),
        lambda: store.save("p", StoredToken("other")),
        lambda: store.save_refreshed("p", StoredToken("other"), "refresh"),
        lambda: store.delete("p"),
    ):
        with pytest.raises(StateUnavailable, match=r"^token store .*: file is not a database$"):
            call()


@pytest.mark.parametrize("command", [["run", "--once"], ["sync", "cli.ann"], ["encrypt-tokens"]])
def test_every_command_reports_a_token_file_that_is_no_database_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    tokens = garbage(tmp_path)
    config = tmp_path / "calsync.toml"
    config.write_text(
        'host = "memory_host:open_host"\n[host_options]\nname = "token-file"\n'
        '[google]\nclient_id = "i"\nclient_secret = "s"\ntokens = "tokens.sqlite3"\n'
        'base_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )

    code = main(["--config", str(config), *command])

    err = capsys.readouterr().err
    assert (code, err) == (2, f"calsync: token store {str(tokens)!r}: file is not a database\n")
