"""The pytest plugin of orthornn (entry point ``pytest11``: ``orthornn = orthornn.testing.plugin``),
active in any test suite once orthornn is installed.

It registers the hypothesis profile ``orthornn`` — no deadline (a matrix function's first call
may compile or allocate), 50 examples, the health checks for slow and large draws off (a batch of
64×64 matrices is large) — which a suite selects with ``pytest --hypothesis-profile=orthornn``,
and states the tolerance convention of :mod:`orthornn.testing` in the report header. It loads
neither torch nor the strategies until a test imports them, and changes no setting by itself.

>>> from hypothesis import settings
>>> settings.get_profile("orthornn").max_examples
50
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "pytest_report_header"]

#: Name of the hypothesis profile this plugin registers.
PROFILE = "orthornn"

settings.register_profile(
    PROFILE,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def pytest_report_header(config: Any) -> str:
    """One header line: the default tolerance of the assertions and the profile's name."""
    return (
        "orthornn.testing: assert_orthogonal tolerance 32·√n·max(1, scale)·eps(dtype); "
        f"hypothesis profile {PROFILE!r} (--hypothesis-profile={PROFILE})"
    )
