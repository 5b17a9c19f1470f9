"""What the CLI tests compare between two runs: a run's records without their wall times."""

from __future__ import annotations

import json
from pathlib import Path


def timeless_records(path: Path) -> list[dict]:
    """The JSON records of ``path`` (one per line, as ``metrics.jsonl``) without ``seconds``,
    the one field that differs between a run and the same run stopped and resumed."""
    return [{k: v for k, v in json.loads(ln).items() if k != "seconds"} for ln in path.read_text().splitlines()]
