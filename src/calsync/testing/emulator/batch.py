"""Google's batch wire format: ``multipart/mixed`` of ``application/http`` parts.

Requests are parsed as googleapiclient writes them (quoted boundary, LF-only inner lines);
responses are written as the client parses them: CRLF everywhere, each part's ``Content-ID``
echoed as ``<response-…>`` and a status line, headers and ``\\r\\n\\r\\n`` before the body.
"""

from __future__ import annotations

import logging
import re
import secrets

from attrs import define

from calsync.testing.emulator.errors import bad_request
from calsync.testing.emulator.wire import ApiRequest, ApiResponse

logger = logging.getLogger(__name__)

MAX_PARTS = 1000
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_BLANK = re.compile(r"\r?\n\r?\n")


@define
class BatchPart:
    """One inner request and the Content-ID it came with."""

    content_id: str | None
    request: ApiRequest


def parse_batch(outer: ApiRequest) -> list[BatchPart]:
    """Split a batch request into its inner requests (400 if it is not a valid batch)."""
    found = _BOUNDARY.search(outer.header("content-type") or "")
    if not (outer.header("content-type") or "").lower().startswith("multipart/mixed") or not found:
        raise bad_request("Batch requests must be multipart/mixed with a boundary.")
    boundary = found.group(1) or found.group(2)
    text = outer.body.decode("utf-8", errors="replace")
    delimiter = re.compile(r"(?:^|\r?\n)--" + re.escape(boundary) + r"(--)?[ \t]*(?:\r?\n|$)")
    parts: list[BatchPart] = []
    previous_end: int | None = None
    for match in delimiter.finditer(text):
        if previous_end is not None:
            parts.append(_parse_part(text[previous_end : match.start()], outer))
        if match.group(1):
            break
        previous_end = match.end()
    if len(parts) > MAX_PARTS:
        raise bad_request(f"A batch request cannot contain more than {MAX_PARTS} calls.")
    if not parts:
        raise bad_request("The batch request contains no parts.")
    return parts


def _split_head(text: str) -> tuple[list[str], str]:
    found = _BLANK.search(text)
    if found is None:
        return text.splitlines(), ""
    return text[: found.start()].splitlines(), text[found.end() :]


def _headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _parse_part(text: str, outer: ApiRequest) -> BatchPart:
    head, payload = _split_head(text)
    part_headers = _headers(head)
    request_head, body = _split_head(payload)
    if not request_head:
        raise bad_request("A batch part has no request line.")
    method, _, rest = request_head[0].strip().partition(" ")
    target = rest.rsplit(" ", 1)[0] if rest.upper().endswith(("HTTP/1.1", "HTTP/1.0")) else rest
    inner_headers = _headers(request_head[1:])
    for name, value in outer.headers.items():
        if not name.startswith("content-") and name not in ("host", "transfer-encoding"):
            inner_headers.setdefault(name, value)
    length = inner_headers.get("content-length")
    data = body.encode("utf-8")
    if length and length.isdigit():
        data = data[: int(length)]
    request = ApiRequest.from_target(method, target.strip(), inner_headers, data)
    return BatchPart(part_headers.get("content-id"), request)


def format_batch(results: list[tuple[str | None, ApiResponse]]) -> ApiResponse:
    """The multipart/mixed response, one part per result in request order."""
    boundary = f"batch_{secrets.token_urlsafe(12)}"
    chunks: list[bytes] = []
    for content_id, response in results:
        head = f"--{boundary}\r\nContent-Type: application/http\r\n"
        if content_id:
            head += f"Content-ID: <response-{content_id.strip().strip('<>')}>\r\n"
        head += f"\r\nHTTP/1.1 {response.status} {response.phrase}\r\n"
        headers = dict(response.headers)
        headers.setdefault("Content-Length", str(len(response.body)))
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        chunks.append(head.encode("utf-8") + b"\r\n" + response.body + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    content_type = f"multipart/mixed; boundary={boundary}"
    return ApiResponse(200, b"".join(chunks), {"Content-Type": content_type})
