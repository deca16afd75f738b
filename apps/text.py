"""Text rules shared by the apps and the HTTP boundary: what an email address may hold, and
the schema of stripped strings. Below serving/ (which imports it) and apps/."""

from __future__ import annotations

import re
from typing import Any

# C0 controls and DEL; tab, LF and CR are allowed inside bodies (multi-line text), not in URLs
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# An address: no "@" but one, no whitespace, no control or bidirectional character, a dot in
# the domain. Spelled out (not `\s`) so that Python and the JSON Schema pattern (ECMA-262, in
# the OpenAPI document) mean exactly the same characters.
_NOT_IN_EMAIL = (
    "@\x00-\x20\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f\u2066-\u2069\u3000\ufeff\u061c"
)
EMAIL_PATTERN = f"^[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}]+\\.[^{_NOT_IN_EMAIL}]+$"
EMAIL = re.compile(EMAIL_PATTERN)


def codepoint(match: re.Match[str]) -> str:
    return f"U+{ord(match.group()):04X}"


def email_problem(email: str) -> str | None:
    """Why `email` cannot be an address (None when it can)."""
    if found := BIDI.search(email):
        return f"{email!r} holds a bidirectional control character ({codepoint(found)})"
    if found := CONTROL.search(email):
        return f"{email!r} holds a control character ({codepoint(found)})"
    if len(email) > 254 or not EMAIL.match(email):
        return f"{email!r} is not an email address"
    return None


# What str.strip() removes (Python's whitespace), and the controls the boundary refuses in text.
_SPACE = " \t\n\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TEXT_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
NOT_BLANK = f"^[^{_TEXT_CONTROL}]*[^{_TEXT_CONTROL}{_SPACE}][^{_TEXT_CONTROL}]*$"


def stripped_text(schema: dict[str, Any]) -> None:
    """`json_schema_extra` of a model that strips its strings: a required-non-empty string must
    hold a character that is not whitespace (else it is empty once stripped, and refused), and
    the schema says so."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and node.get("minLength", 0) >= 1:
                node.setdefault("pattern", NOT_BLANK)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema.get("properties", {}))
