"""The emulator's admin endpoints over HTTP, as a test outside its process calls them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def admin(base_url: str, method: str, name: str, body: Any = None) -> tuple[int, Any]:
    """Call ``/emulator/v1/{name}``: the HTTP status and the JSON answered."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base_url}/emulator/v1/{name}", data=data, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
