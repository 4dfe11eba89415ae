"""python -m microgpt.bench: time the three implementations side by side."""

import sys

from .run import main

sys.exit(main())
