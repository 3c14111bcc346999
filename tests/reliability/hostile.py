"""Hostile request bodies of issue 12 §4, shared by the explicit tests and the fuzz corpus.

Each case is (name, raw body bytes, Content-Type header, words the 400 message must contain).
"""

from __future__ import annotations

JSON = "application/json"


def _nested(depth: int) -> bytes:
    return b'{"type": "x", "payload": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


HOSTILE_BODIES: list[tuple[str, bytes, str, str]] = [
    ("invalid utf-8", b'\xff\xfe{"type": "x"}', JSON, "UTF-8"),
    ("invalid utf-8 inside a string", b'{"type": "x", "payload": {"s": "\xc3\x28"}}', JSON, "UTF-8"),
    ("integer of 5000 digits", b'{"type": "x", "payload": {"n": ' + b"9" * 5000 + b"}}", JSON, "digits"),
    (
        "negative integer of 50 digits",
        b'{"type": "x", "payload": {"n": -' + b"1" * 50 + b"}}",
        JSON,
        "digits",
    ),
    ("nested 3000 deep", _nested(3000), JSON, "nested"),
    ("nested 100 deep", _nested(100), JSON, "nested"),
    ("arrays nested 50000 deep", b"[" * 50_000 + b"]" * 50_000, JSON, "nested"),
    ("unknown charset", b'{"type": "x"}', "application/json; charset=klingon", "charset"),
    ("latin-1 charset", b'{"type": "x"}', "application/json; charset=latin-1", "charset"),
    ("lone surrogate in a value", b'{"type": "x", "payload": {"s": "\\ud800"}}', JSON, "surrogate"),
    ("lone surrogate in a key", b'{"type": "x", "payload": {"\\udfff": 1}}', JSON, "surrogate"),
    ("NaN", b'{"type": "x", "payload": {"n": NaN}}', JSON, "NaN"),
    ("Infinity", b'{"type": "x", "payload": {"n": -Infinity}}', JSON, "Infinity"),
    ("number out of range", b'{"type": "x", "payload": {"n": 1e999}}', JSON, "out of range"),
    ("truncated", b'{"type": ', JSON, "not valid JSON"),
    ("byte order mark", b'\xef\xbb\xbf{"type": "x"}', JSON, "not valid JSON"),
    ("a lone control character (found by the fuzzer)", b"\x1c", JSON, "not valid JSON"),
]

# Every operation that reads a body, with a body wrapper that puts the hostile text where it is read.
BODY_ROUTES = ["/schedule", "/schedule/bulk", "/queues/default/drain", "/queues/default/clean"]

# Header values the SSE endpoint must refuse before its stream starts (400), never after it.
HOSTILE_LAST_EVENT_IDS = ["99999999999999999999", "1-99999999999999999999", "abc", "1-2-3", "", "-1"]
