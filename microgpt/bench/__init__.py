"""The benchmark and its instruments, apart from the model.

- ``python -m microgpt.bench [--out PATH.json] [--quick]`` times training
  steps of the three twins side by side (``run.py``).
- :mod:`microgpt.bench.tools`: the step timer, the NumPy call counter and
  the inputs; ``report.py``: the table, the ratios and the
  stored run (``stored.json``) that the efficiency chapter reads.
- The benchmark keeps freed memory in the process as
  ``microgpt train --keep-freed-memory`` does, with :mod:`microgpt.heap`.

The model never imports this package.
"""
