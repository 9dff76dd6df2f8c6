"""Progress lines: redrawn in place on a terminal, one plain line per change otherwise."""

from __future__ import annotations

import io

from jupyter_mlops.cli.progress import Progress


def test_plain_mode_prints_one_line_per_state_change() -> None:
    stream = io.StringIO()
    with Progress(["load", "train"], stream=stream, live=False) as progress:
        progress.running("load")
        progress.finished("load", "ran", 1.234)
        progress.finished("train", "cached")
    assert stream.getvalue().splitlines() == [
        "▶ load   running 0.0 s",
        "✓ load   done in 1.23 s",
        "= train  cached",
    ]


def test_live_mode_redraws_the_block_in_place() -> None:
    stream = io.StringIO()
    with Progress(["load", "train"], stream=stream, live=True) as progress:
        progress.running("load")
        progress.finished("load", "failed", 0.5)
        progress.finished("train", "not_run")
    text = stream.getvalue()
    assert "\x1b[2F" in text  # cursor back up over the two step lines
    final = text.rsplit("\x1b[2F", 1)[1]
    assert final == (
        "\x1b[2K✗ load   failed after 0.50 s\n\x1b[2K- train  not run (an upstream step failed)\n"
    )
