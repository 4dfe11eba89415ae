"""Solutions as a reader sees them: the answer, not nbgrader's markers.

Each exercise's solution cell wraps its answer in ``### BEGIN SOLUTION``
and ``### END SOLUTION``, the lines at which nbgrader and the student
copies cut the answer out. A reader who opens "Show solution" wants the
answer itself, so the built pages drop those two lines from the code
cells they show; the notebooks keep them.
"""

import re

from docutils import nodes

MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.M)


def drop_markers(app, doctree):
    """Remove the marker lines from every code block of the page."""
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if MARKER.search(text):
            text = MARKER.sub("", text)
            block.rawsource = text
            block.children = [nodes.Text(text)]


def setup(app):
    app.connect("doctree-read", drop_markers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
