"""Durations as people write them: `90`, `90s`, `5m`, `1h`, `1m30s`."""

from __future__ import annotations

import re


def parse_duration(text: str) -> float:
    """`90`, `90s`, `5m`, `1h`, `1m30s` -> seconds."""
    match = re.fullmatch(r"\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not text.strip() or match is None:
        raise ValueError(f"'{text}' is not a duration (examples: 30s, 5m, 1h)")
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
