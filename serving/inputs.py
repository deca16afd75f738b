"""Input checked at the boundary, before any route or database sees it.

Every request's path, query parameters and body (JSON, or text such as an electorate CSV) is
refused with a 422 in FastAPI's validation-error shape (`{"detail": [{"loc", "msg", "type"}]}`,
`loc` naming where, as for any other invalid field) when it holds a
control character: NUL, which PostgreSQL cannot store in text, and the other C0 controls and
DEL (tab, line feed and carriage return are allowed in bodies). A JSON body holding `NaN` or
`Infinity` (Python's parser accepts them, JSON does not) is refused the same way. Emails also
refuse bidirectional-control characters, which make an address display as another.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import AsyncGenerator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from pydantic import AfterValidator, Field

from apps.text import (
    CONTROL,
    EMAIL_PATTERN,
    codepoint,
    email_problem,
)
from serving.limits import send_json

# tab, LF and CR are allowed inside bodies (multi-line text), not in URLs (apps.text.CONTROL)
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
JSON_TYPES = re.compile(r"^application/([\w.+-]+\+)?json\b")
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_QUERY = 4096  # bytes of a query string
MAX_PARAMETERS = 32  # parameters in one query string
MAX_REPEATS = 16  # values of one list parameter
BODY_WAIT_S = 5.0  # a request body may take this long…
BODY_MIN_RATE = 1000  # …and a second more for every this many bytes (bytes a second)
BODY_MAX_S = 60.0  # and never longer


class BadInput(ValueError):
    """Input refused at the boundary: where (`loc`, as in FastAPI's errors) and why."""

    def __init__(self, loc: tuple[str | int, ...], msg: str, kind: str = "control_character"):
        super().__init__(msg)
        self.loc, self.msg, self.kind = loc, msg, kind


def _check_email(value: str) -> str:
    problem = email_problem(value.strip())
    if problem is not None:
        raise ValueError(problem)
    return value.strip().lower()


# the rule `email_problem` applies, stated in the schema (validation is the function's, so
# that its messages name the character at fault)
Email = Annotated[
    str,
    Field(min_length=3, max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN}),
    AfterValidator(_check_email),
]


def _no_nan(constant: str) -> Any:
    raise BadInput(("body",), f"{constant} is not a number JSON allows", "json_invalid")


def _control(found: re.Match[str]) -> str:
    return f"holds a control character ({codepoint(found)})"


def check_json(value: Any, loc: tuple[str | int, ...] = ("body",)) -> None:
    """Every key and string inside `value`, free of control characters (bar tab, LF, CR)."""
    if isinstance(value, str):
        if found := CONTROL_IN_TEXT.search(value):
            raise BadInput(loc, _control(found))
    elif isinstance(value, dict):
        for key, item in value.items():
            if found := CONTROL_IN_TEXT.search(key):
                raise BadInput(loc, f"a key {_control(found)}")
            check_json(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, (*loc, index))


def finite(value: Any) -> Any:
    """`value` with every infinite or NaN float replaced by its name (for echoing input)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):  # 1e400: Python's parser makes it infinity
        raise BadInput(("body",), f"{number} is out of range for a number", "json_invalid")
    return value


async def check_body(content_type: str, body: bytes) -> None:
    """The body as the app will parse it, checked after decoding: JSON parsed strictly and
    walked; a form (urlencoded or multipart) parsed by Starlette's own parsers, every name,
    value and text file checked; any other body that is UTF-8 text scanned."""
    if not body:
        return
    if JSON_TYPES.match(content_type) or not content_type:  # FastAPI reads both as JSON
        try:
            parsed = json.loads(body, parse_constant=_no_nan, parse_float=_finite)
        except (ValueError, RecursionError) as error:
            if isinstance(error, BadInput):
                raise
            if content_type:
                return  # not JSON: the route's own parsing answers 422 with the position
        else:
            check_json(parsed)
            return
    if content_type.startswith(FORMS):
        await check_form(content_type, body)
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return  # not text: for the route to judge
    if found := CONTROL_IN_TEXT.search(text):
        line = text.count("\n", 0, found.start()) + 1
        raise BadInput(("body",), f"line {line} {_control(found)}")


async def check_form(content_type: str, body: bytes) -> None:
    """A form's names and values (and its files, which must be UTF-8 text) free of control
    characters, decoded as the app decodes them (`%00` is a NUL; a multipart part in another
    charset is read as Latin-1)."""
    from starlette.datastructures import Headers, UploadFile
    from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

    async def whole() -> AsyncGenerator[bytes, None]:
        yield body

    headers = Headers(raw=[(b"content-type", content_type.encode("latin-1"))])
    parser: Any = (
        FormParser(headers, whole())
        if content_type.startswith(FORMS[0])
        else MultiPartParser(headers, whole(), max_part_size=len(body) + 1)
    )
    try:
        form = await parser.parse()
    except MultiPartException:
        return  # malformed: the app's own parsing answers
    try:
        for name, value in form.multi_items():
            if found := CONTROL.search(name):
                raise BadInput(("body",), f"a field's name {_control(found)}")
            if isinstance(value, UploadFile):
                data = await value.read()
                try:
                    value = data.decode("utf-8")
                except UnicodeDecodeError:
                    raise BadInput(
                        ("body", name), "the file is not UTF-8 text", "string_unicode"
                    ) from None
            if found := CONTROL_IN_TEXT.search(value):
                line = value.count("\n", 0, found.start()) + 1
                where = f"line {line} " if "\n" in value else ""
                raise BadInput(("body", name), f"{where}{_control(found)}")
    finally:
        await form.close()


def check_url(path: str, query: bytes) -> None:
    """The path and every query parameter free of control characters, and the query string
    bounded: at most MAX_QUERY bytes, MAX_PARAMETERS parameters, MAX_REPEATS values of one
    name (a list parameter repeated hundreds of times made PostgreSQL plan for minutes)."""
    if found := CONTROL.search(path):
        raise BadInput(("path",), f"the path {_control(found)}")
    if len(query) > MAX_QUERY:
        raise BadInput(
            ("query",),
            f"the query string is {len(query):,} bytes: at most {MAX_QUERY:,}",
            "too_long",
        )
    try:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadInput(("query",), "the query string is not UTF-8", "string_unicode") from None
    counts: dict[str, int] = {}
    for name, value in pairs:
        if found := CONTROL.search(name):
            raise BadInput(("query",), f"a parameter's name {_control(found)}")
        if found := CONTROL.search(value):
            raise BadInput(("query", name), _control(found))
        counts[name] = counts.get(name, 0) + 1
        if counts[name] > MAX_REPEATS:
            raise BadInput(("query", name), f"given more than {MAX_REPEATS} times", "too_long")
    if len(pairs) > MAX_PARAMETERS:
        raise BadInput(("query",), f"{len(pairs)} parameters: at most {MAX_PARAMETERS}", "too_long")


class SlowBody(Exception):
    """A request body arriving slower than the minimum transfer rate."""

    def __init__(self, received: int, seconds: float, wait_s: float, min_rate: int) -> None:
        super().__init__(
            f"request body too slow: {received:,} bytes in {seconds:.1f} s (a body may take "
            f"{wait_s:g} s, then must keep up {min_rate:,} bytes a second)"
        )


async def read_body(
    receive: Any,
    wait_s: float = BODY_WAIT_S,
    min_rate: int = BODY_MIN_RATE,
    clock: Any = time.monotonic,
) -> bytes | None:
    """The whole body, or None when the client left. It may take `wait_s`, plus a second for
    every `min_rate` bytes received, at most BODY_MAX_S (Apache's mod_reqtimeout rule): a
    client sending a byte now and then is cut off (SlowBody) instead of holding a slot."""
    started, received, chunks = clock(), 0, []
    while True:
        allowed = min(BODY_MAX_S, wait_s + received / min_rate)
        left = started + allowed - clock()
        try:
            if left <= 0:
                raise TimeoutError
            message = await asyncio.wait_for(receive(), left)
        except TimeoutError:
            raise SlowBody(received, clock() - started, wait_s, min_rate) from None
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        received += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class InputGuardMiddleware:
    """A pure ASGI middleware refusing bad input with 422 before the app runs. It reads a
    request's body whole (inside the body limit, so at most that) before the request is
    admitted (serving.capacity), at a minimum rate: a slow body never holds a slot."""

    def __init__(
        self, app: Any, wait_s: float = BODY_WAIT_S, min_rate: int = BODY_MIN_RATE
    ) -> None:
        self.app = app
        self.wait_s, self.min_rate = wait_s, min_rate

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_url(scope.get("path", ""), scope.get("query_string", b""))
        except BadInput as error:
            await _refuse(send, error)
            return
        if scope.get("method") not in {"POST", "PUT", "PATCH", "DELETE"}:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, self.wait_s, self.min_rate)
        except SlowBody as error:
            await send_json(send, 408, {"detail": str(error)}, [(b"connection", b"close")])
            return
        if body is None:
            return  # the client left (or the body limit refused it): nothing to answer
        # one Content-Type, or the check and the app could read the body as two kinds
        types = [v for k, v in scope.get("headers") or [] if k.lower() == b"content-type"]
        if len(types) > 1:
            many = BadInput(("header", "content-type"), f"given {len(types)} times: one only")
            await _refuse(send, many)
            return
        content_type = types[0].decode("latin-1") if types else ""
        try:
            await check_body(content_type.lower(), body)
        except BadInput as error:
            await _refuse(send, error)
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as servers do

        await self.app(scope, replay, send)


async def _refuse(send: Any, error: BadInput) -> None:
    detail = [{"loc": list(error.loc), "msg": error.msg, "type": error.kind}]
    await send_json(send, 422, {"detail": detail})
