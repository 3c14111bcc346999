"""The one guarded reader of request bodies: every handler that takes JSON calls :func:`read_json`.

JSON that Python's parser accepts is not always JSON the rest of the system can store: a lone UTF-16
surrogate (``"\\ud800"``) cannot be encoded back to UTF-8, an integer of thousands of digits stops
``int()``, nesting a few thousand deep exhausts the recursion limit, ``NaN`` and ``1e999`` are not
JSON at all. Each of these, a body that is not UTF-8, and a ``charset`` other than UTF-8 are refused
here with ``InvalidInput`` (400) naming the problem, so no handler ever sees them and nothing is
stored. Oversized bodies are refused by aiohttp itself (``client_max_size``; 413 in the error
middleware).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from aiohttp import web

from jobs_core.errors import InvalidInput

# Deeper than any real job payload; the check keeps pydantic, json.dumps and the views away from
# Python's recursion limit (about 1000 frames).
MAX_DEPTH = 64
# 64-bit integers need at most 19 digits; a few more leave room for signs and big identifiers.
MAX_INT_DIGITS = 40
UTF8_NAMES = frozenset({"utf-8", "utf8"})
JSON_WHITESPACE = " \t\r\n"
SURROGATE = re.compile(r"[\ud800-\udfff]")


async def read_json(request: web.Request, *, required: bool = True) -> Any:
    """The body as JSON (``{}`` for an empty body when not ``required``); InvalidInput otherwise."""
    _check_charset(request.charset)
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"body: not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start})"
        ) from None
    if not text.strip(JSON_WHITESPACE):  # str.strip() would also drop \x1c-\x1f, which JSON refuses
        if required:
            raise InvalidInput("body: a JSON object is required")
        return {}
    return parse_json(text)


def parse_json(text: str) -> Any:
    """Strict JSON: finite numbers, bounded integers and depth, no lone surrogates."""
    try:
        value = json.loads(
            text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant
        )
    except json.JSONDecodeError as err:
        raise InvalidInput(
            f"body: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})"
        ) from None
    except RecursionError:
        raise InvalidInput(f"body: JSON nested deeper than {MAX_DEPTH} levels") from None
    _check_tree(value)
    return value


def _check_charset(charset: str | None) -> None:
    if charset is not None and charset.lower() not in UTF8_NAMES:
        raise InvalidInput(f"Content-Type: charset {charset[:40]!r} is not supported; JSON bodies are UTF-8")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidInput(f"body: an integer has more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidInput(f"body: number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"body: {name} is not valid JSON")


def _check_tree(value: Any) -> None:
    """Walks the parsed body without recursion: depth, and strings (keys too) that UTF-8 can encode."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise InvalidInput(f"body: JSON nested deeper than {MAX_DEPTH} levels")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    _check_text(key)
                stack.append((child, depth + 1))


def _check_text(text: str) -> None:
    found = SURROGATE.search(text)
    if found:
        raise InvalidInput(
            f"body: a string holds a lone surrogate (\\u{ord(found.group()):04x}), which is not Unicode text"
        )
