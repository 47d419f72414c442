"""Command-line durations: 90s, 30m, 12h, 7d."""

import argparse
import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_PATTERN = re.compile(r"^(\d+)([smhd])$")


def duration(text: str) -> timedelta:
    match = _PATTERN.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: use a positive whole number and a unit, e.g. 90s, 30m, 12h or 7d."
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
