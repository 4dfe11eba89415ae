"""The course material: the exercises' checks, student copies, grading.

- ``checks/``: the checks the book's exercises call, a module per
  chapter (``exercise.py``: what every check does, and the points).
- ``python -m microgpt.course.assignments BOOK OUT`` writes student
  copies of the chapters (:mod:`microgpt.course.handout`: their
  Markdown and README; :mod:`microgpt.course.classroom`: the GitHub
  Actions workflow that grades a handout's repository).
- ``python -m microgpt.course.grade SUBMISSIONS --out GRADES`` grades a
  class; each notebook runs in a process of its own
  (:mod:`microgpt.course.runner`); :mod:`microgpt.course.nbgrader`
  stamps nbgrader's metadata.

The model never imports this package.
"""
