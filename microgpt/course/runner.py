"""Run one notebook for grading: every cell, whatever fails, within a limit.

``python -m microgpt.course.runner NOTEBOOK STATUS SECONDS`` executes the
notebook in a fresh kernel (this Python's), in the notebook's folder,
going on after errors, skipping the cells tagged ``skip-when-grading``
(demonstrations that no exercise needs). The checks record their results
in the file that ``MICROGPT_RESULTS`` names. When the run ends, it
writes STATUS, a JSON object: ``finished``, ``timed out`` (the kernel is
killed once SECONDS have passed) or ``unreadable`` / ``failed`` with a
message.
"""

import json
import os
import sys
import threading
import time
from pathlib import Path

SKIP_TAG = "skip-when-grading"


def _client(nb, folder, seconds):
    """A notebook client with a kernel of this very Python."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from nbclient import NotebookClient

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[sys.executable, "-m",
                                    "ipykernel_launcher", "-f",
                                    "{connection_file}"],
                              display_name="Python 3", language="python")

    km = KernelManager(kernel_spec_manager=ThisPython(),
                       kernel_name="python3")
    return NotebookClient(nb, km=km, timeout=seconds, allow_errors=True,
                          resources={"metadata": {"path": str(folder)}})


def run(path, seconds, on_timeout):
    """Execute the notebook at path; a status dict.

    At the limit, on_timeout(status) is called from another thread, with
    the kernel killed; it must end the process (nbclient may wait on a
    dead kernel's messages for ever).
    """
    import nbformat
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # any way a file can fail to be a notebook
        return {"status": "unreadable", "message": f"{type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}"}
    for cell in nb.cells:
        if (cell.cell_type == "code"
                and SKIP_TAG in cell.metadata.get("tags", [])):
            cell.source = "pass  # skipped while grading"
    client = _client(nb, path.parent, seconds)

    def stop():
        process = getattr(getattr(client.km, "provisioner", None),
                          "process", None)
        if process is not None:
            process.kill()
        on_timeout({"status": "timed out", "seconds": seconds})

    timer = threading.Timer(seconds, stop)
    start = time.monotonic()
    timer.start()
    try:
        client.execute()
    except Exception as e:
        return {"status": "failed", "message":
                f"{type(e).__name__}: {str(e).splitlines()[0]}"[:300]}
    finally:
        timer.cancel()
    return {"status": "finished",
            "seconds": round(time.monotonic() - start, 1)}


def main(argv=None):
    path, status, seconds = argv or sys.argv[1:]

    def write(result):
        Path(status).write_text(json.dumps(result), encoding="utf-8")

    def give_up(result):
        write(result)
        os._exit(0)  # this process exists for this one notebook

    write(run(path, float(seconds), give_up))
    return 0


if __name__ == "__main__":
    sys.exit(main())
