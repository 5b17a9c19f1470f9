"""Progress bars of the command line (tqdm), on stderr, with the time left.

A bar shows only where someone watches: on a terminal (it follows the terminal's width) or in
a notebook (a widget); when stderr is a file or a pipe (CI logs) and with ``--quiet`` it is
off and writes nothing. The library never prints: it takes callbacks (``on_record``,
``progress``), and the command line drives these bars from them.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

__all__ = ["progress_bar"]


def _tqdm_class() -> Any:
    with warnings.catch_warnings():  # autonotebook warns when it picks the notebook widget
        warnings.simplefilter("ignore")
        from tqdm.autonotebook import tqdm
    return tqdm


def progress_bar(total: int, *, desc: str, unit: str, initial: int = 0, quiet: bool = False) -> Any:
    """A tqdm bar over ``total`` units on stderr, starting at ``initial``; disabled (a no-op)
    when ``quiet`` or when stderr is not a terminal (and not a notebook)."""
    return _tqdm_class()(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=True if quiet else None,  # None: off unless stderr is a terminal (notebooks: on)
        dynamic_ncols=True,
        leave=True,
    )
