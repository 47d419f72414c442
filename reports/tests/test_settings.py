"""The moderation and rate-limit settings reject bad values with a clear message."""

import pytest

from whimsy_project.tests.test_settings import load_settings


@pytest.mark.parametrize(
    "env, message",
    [
        ({"AUTO_BAN_REPORTERS": "three"}, "AUTO_BAN_REPORTERS must be a whole number"),
        ({"AUTO_BAN_WINDOW_HOURS": "0"}, "AUTO_BAN_WINDOW_HOURS must be at least 1"),
        ({"RATE_LIMIT_MATCH_BURST": "0"}, "RATE_LIMIT_MATCH_BURST must be at least 1"),
        ({"RATE_LIMIT_REPORT_PER_HOUR": "-5"}, "RATE_LIMIT_REPORT_PER_HOUR must be at least 1"),
    ],
)
def test_a_bad_value_fails_with_a_clear_message(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr
