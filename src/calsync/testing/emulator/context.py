"""What an API handler receives, and the registry mapping discovery method ids to handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from attrs import define

from calsync.testing.emulator.errors import Api
from calsync.testing.emulator.state import Account, EmulatorState
from calsync.testing.emulator.wire import ApiResponse

logger = logging.getLogger(__name__)

#: A handler answers with a JSON payload (200) or a full response.
Result = dict[str, Any] | ApiResponse
Handler = Callable[["CallContext"], Result]

HANDLERS: dict[str, Handler] = {}


def handler(method_id: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of a discovery method id."""

    def register(function: Handler) -> Handler:
        HANDLERS[method_id] = function
        return function

    return register


@define
class CallContext:
    """One authenticated API call, already routed and validated."""

    state: EmulatorState
    account: Account
    api: Api
    method_id: str
    params: dict[str, Any]
    path: dict[str, str]
    body: Any
    headers: dict[str, str]
    query: dict[str, list[str]]

    def param(self, name: str, default: Any = None) -> Any:
        """A converted query parameter, or ``default`` when absent."""
        return self.params.get(name, default)

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name."""
        return self.headers.get(name.lower())
