"""Course tools around the book's exercises: running and grading them.

``python -m microgpt.grade SUBMISSIONS --out GRADES`` grades a class
(:mod:`microgpt.course.grade`); each notebook runs in a process of its
own (:mod:`microgpt.course.runner`). The model never imports this.
"""
