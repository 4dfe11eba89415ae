"""python -m microgpt.grade: grade a class (see microgpt.course.grade)."""

import sys

from .course.grade import main

if __name__ == "__main__":
    sys.exit(main())
