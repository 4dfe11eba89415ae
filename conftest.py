"""Settings for every test run, notebooks included (pytest loads this first).

One BLAS/OpenMP thread per process. The suite runs two pytest-xdist
workers on small matrices, where extra threads only contend for the cores;
and the notebook kernels inherit this environment, so their printed numbers
do not depend on how many threads a machine happens to have.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
