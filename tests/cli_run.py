"""Running the command line as a user would, for the CLI test modules.

Import what a test needs with ``from cli_run import microgpt``.
"""

import os
import subprocess
import sys


def microgpt(*args, env=None, **kwargs):
    """Run the command line in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "microgpt", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def samples_of(stdout):
    return [
        line.split(": ", 1)[1]
        for line in stdout.splitlines()
        if line.startswith("sample ")
    ]


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing printed before the error
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("microgpt: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
