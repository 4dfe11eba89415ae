"""The clone of the book's repository that this package runs from, if any.

A reader who sets the book up from a clone installs the package in
editable mode, so the chapters, the book's pages and the instructor's
answer key sit beside it. Whatever looks for them asks this module, the
one place that knows how a clone is laid out. An installed wheel, or the
grader's sandboxed copy of the package, has no clone around it, and then
every answer here is None.
"""

from pathlib import Path


def clone_root():
    """The root folder of the repository around the package, or None.

    A folder counts as the book's repository when it holds the book's
    table of contents and its chapters, next to the package folder.
    """
    root = Path(__file__).resolve().parents[1]
    if (root / "_toc.yml").is_file() and (root / "book").is_dir():
        return root
    return None


def in_clone(*parts):
    """The path parts name inside the repository, or None outside one."""
    root = clone_root()
    return None if root is None else root.joinpath(*parts)
