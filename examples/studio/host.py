"""The studio as a ``calsync`` command host: ``host = "studio.host:open_host"``.

A configuration file for the studio example::

    state = "calsync.sqlite3"
    host = "studio.host:open_host"
    host_path = "examples"          # where the ``studio`` package lives

    [host_options]
    database = "studio.sqlite3"     # relative to the configuration file
    studio = "lumen"                # the studio name in profile ids (``lumen.7``)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calsync import ConfigurationError
from calsync.config import Host
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import Studio

__all__ = ["open_host", "studio_host"]


def studio_host(studio: Studio, studio_name: str) -> Host:
    """The three adapters over one open studio database."""
    return Host(
        schedule=StudioSchedule(studio),
        profiles=StudioProfiles(studio, studio_name),
        contacts=StudioClients(studio),
    )


def open_host(options: dict[str, Any]) -> Host:
    """Open the studio database named by ``options`` (see the module docstring).

    Raises:
        ConfigurationError: ``database`` is missing or ``studio`` is not a usable name.
    """
    if "database" not in options:
        raise ConfigurationError("[host_options] needs database = <path of the studio database>")
    path = Path(options.get("config_dir", ".")) / str(options["database"])
    return studio_host(Studio(path), str(options.get("studio", "studio")))
