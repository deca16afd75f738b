"""In production (F1_ENV=production) the service refuses to start without a strong JWT secret."""

from __future__ import annotations

import pytest

from serving.app import create_app
from serving.settings import ServiceSettings


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (None, "F1_JWT_SECRET is not set"),
        ("change-me", "placeholder"),
        ("a" * 64, "too uniform"),
        ("Sh0rt-but-varied", "16 characters; at least 32"),
    ],
)
def test_production_refuses_a_missing_or_weak_secret(secret: str | None, problem: str) -> None:
    settings = ServiceSettings(
        environment="production", jwt_secret=secret, database_url="sqlite://", load_models=False
    )
    with pytest.raises(RuntimeError, match=f"refusing to start in production: .*{problem}"):
        create_app(settings)


def test_production_starts_with_a_strong_secret_and_development_with_none() -> None:
    strong = "kJ8-2vQx_9LmP0aZt7Yw3RbN5cHdE1fGs6Ui4Oo"
    assert create_app(ServiceSettings(environment="production", jwt_secret=strong,
                                      database_url="sqlite://", load_models=False))  # fmt: skip
    assert create_app(ServiceSettings(jwt_secret=None, database_url="sqlite://", load_models=False))
