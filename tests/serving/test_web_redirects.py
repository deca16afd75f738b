"""After sign-in the web app goes back only to a page of its own (no open redirect)."""

from __future__ import annotations

import pytest

from serving.web.signin import _local


@pytest.mark.parametrize(
    ("target", "goes_to"),
    [
        ("/races/2024/24", "/races/2024/24"),
        ("/recipes?q=carbonara", "/recipes?q=carbonara"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/a\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
    ],
)
def test_only_a_path_of_this_site(target: str, goes_to: str) -> None:
    assert _local(target) == goes_to
