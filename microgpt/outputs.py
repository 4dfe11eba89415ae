"""Files the commands write: checked before any work, written atomically.

check() refuses, up front, any output that would destroy a user's file or
that could only fail after the work is done: an input or another output
given again, a folder, a device or FIFO (which a rename would replace by
a regular file), or a place that cannot be written. atomic_write() then
writes a file so that it is either complete or not there at all, and
atomic_folder() does the same for a folder of files.
"""

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

PREFIX = ".microgpt-"  # the temporary files beside an output


class OutputError(ValueError):
    """An output path that the commands must not, or cannot, write."""


class WriteError(OSError):
    """Writing an output failed; the message names the output's path."""


def same_file(a, b):
    """True if paths a and b name one file (or will, once written)."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)  # links and hard links too
    return os.path.realpath(a) == os.path.realpath(b)


def probe_folder(folder):
    """Raise OSError unless a new file can be made in folder."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=PREFIX, suffix=".probe")
    os.close(fd)
    os.remove(tmp)


def check_one(option, path):
    """Raise OutputError unless path can become a regular file we write."""
    # A shell passes an empty path for an unset variable (--save "$OUT").
    if not path:
        raise OutputError(f"{option} needs a file path, got an empty one")
    if os.path.isdir(path):
        raise OutputError(f"{option} {path}: is a folder; give a file path")
    if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        raise OutputError(
            f"{option} {path}: is not a regular file (a "
            f"device, FIFO or socket); give a file path"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        raise OutputError(f"{option} {path}: folder {folder} does not exist")
    if not os.path.isdir(folder):
        raise OutputError(f"{option} {path}: {folder} is not a folder")
    try:
        probe_folder(folder)
    except OSError as e:
        raise OutputError(
            f"{option} {path}: cannot write in folder "
            f"{folder}: {e.strerror or e}"
        ) from None


def check(outputs, inputs=()):
    """Raise OutputError unless every output can be written safely.

    outputs and inputs are (name, path) pairs, such as ("--save", path);
    a path of None is not given and is skipped. An output must not be an
    input, nor another output.
    """
    outputs = [(name, path) for name, path in outputs if path is not None]
    inputs = [(name, path) for name, path in inputs if path is not None]
    for i, (option, path) in enumerate(outputs):
        check_one(option, path)
        for name, other in inputs:
            if same_file(path, other):
                raise OutputError(
                    f"{option} {path}: the same file as "
                    f"{name} {other}, which it would "
                    f"overwrite; give another path"
                )
        for name, other in outputs[:i]:
            if same_file(path, other):
                raise OutputError(
                    f"{option} {path}: the same file as "
                    f"{name} {other}; give each its own"
                )


@contextlib.contextmanager
def naming(path):
    """A block whose OSErrors name path, not the temporary file behind it."""
    try:
        yield
    except OSError as e:
        raise WriteError(f"cannot write {path}: {e.strerror or e}") from e


def atomic_write(path, write):
    """Write path through write(f), a binary file: all of it, or nothing.

    Errors name path, never the temporary file; returns path as a Path.
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # the rename would replace it
        raise WriteError(f"cannot write {path}: it is not a regular file")
    # Write a temporary file beside path, then rename it over path:
    # a crash or a full disk never leaves a half-written file there.
    with naming(path):
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=PREFIX, suffix=path.suffix + ".part"
        )
        try:
            with os.fdopen(fd, "wb") as f:
                # mkstemp makes the file private (0600), and the
                # rename keeps that; give it the mode open() would give.
                if hasattr(os, "fchmod"):  # not on Windows before 3.13
                    os.fchmod(f.fileno(), 0o666 & ~umask())
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return path


def check_new_folder(path):
    """Raise OutputError unless path can become a new folder of files.

    path must not exist, or be an empty folder, and the folder it goes
    in must exist: the one rule for every folder the package writes.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise OutputError(
            f"{path} exists and is not an empty folder; choose a new one"
        )
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist")


def atomic_folder(path, fill):
    """Make the new folder path through fill(folder): all of it, or nothing.

    fill writes into an empty temporary folder beside path, which is then
    renamed to path; if fill raises, the temporary folder goes and path
    stays as it was. path must be a new folder (see check_new_folder);
    errors in making or renaming the folder name path; fill names its own.
    """
    path = Path(path)
    check_new_folder(path)
    with naming(path):
        tmp = Path(
            tempfile.mkdtemp(dir=path.parent, prefix=PREFIX, suffix=".part")
        )
    try:
        with naming(path):
            # mkdtemp makes the folder private (0700); give it the mode
            # mkdir would give, as atomic_write does for a file.
            os.chmod(tmp, 0o777 & ~umask())
        fill(tmp)
        with naming(path):
            if path.exists():
                path.rmdir()  # only an empty folder: rmdir refuses others
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def umask():
    """The process's file-creation mask (read by setting it, then back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class LineLog:
    """A text file written a line at a time, each line flushed.

    It is there to watch a run (tail -f) and to keep every finished line
    of a run that crashes or is interrupted, so it is not atomic. Its
    errors name it as option and path.
    """

    def __init__(self, option, path):
        self.where = f"{option} {path}"
        self.failed = False
        self.file = self._do(open, path, "w", encoding="utf-8")

    def _do(self, action, *args, **kwargs):
        try:
            return action(*args, **kwargs)
        except OSError as e:
            self.failed = True
            raise WriteError(f"{self.where}: {e.strerror or e}") from None

    def write(self, line):
        """Write line and a newline, and flush them to the file."""
        self._do(self.file.write, line + "\n")
        self._do(self.file.flush)

    def close(self):
        """Close the file; after a failed write, quietly."""
        failed = self.failed
        try:
            self._do(self.file.close)
        except OSError:
            if not failed:  # else the first error is the one to tell
                raise
