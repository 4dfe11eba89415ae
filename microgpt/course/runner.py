"""Run one notebook for grading: every cell, whatever fails, within a limit.

``python -m microgpt.course.runner NOTEBOOK SECONDS`` executes the
notebook in a fresh kernel (this Python's), in the notebook's folder,
going on after errors, skipping the cells tagged ``skip-when-grading``
(demonstrations that no exercise needs). The grader runs it inside the
sandbox (microgpt.course.sandbox).

The checks write their results to a pipe that only the kernel inherits
(its descriptor in ``MICROGPT_RESULTS_FD``). After each cell the runner
reads what that cell wrote, and reports it with the cell's source on
its own standard output, which no process it starts inherits: the
kernel's output goes to /dev/null, and the runner cannot be traced or
have its open files opened by the kernel (it is not dumpable). Each
line of its output is a JSON object: ``{"cell", "source", "results"}``
per cell that wrote results, and last ``{"status": ...}``: ``finished``,
``timed out`` (the kernel is killed once SECONDS have passed) or
``unreadable`` / ``failed`` with a message in the student's words.
"""

import ctypes
import fcntl
import json
import os
import sys
import threading
import time
from pathlib import Path

from .checks.exercise import RESULTS_FD_VAR

SKIP_TAG = "skip-when-grading"
RESULT_BYTES = 1 << 20  # the most a notebook's checks may report
DIED = (
    "its kernel stopped before the end: it ran out of memory, or "
    "something ended it"
)


# Run in the kernel before the notebook: after each cell, the objects
# alive are frozen (gc.freeze), so that Python's full collections, which
# walk every object alive, leave out what earlier cells imported and
# built. A chapter that trains the scalar twin spends about half its time
# in those passes otherwise. A cycle that becomes garbage in the cell that
# made it is still collected; one that outlives its cell stays until the
# kernel ends, which for a notebook being graded is soon.
FREEZE_AFTER_EACH_CELL = (
    'get_ipython().events.register("post_run_cell", '
    'lambda *_: __import__("gc").freeze())'
)


def _client(nb, folder, seconds):
    """A notebook client with a kernel of this very Python."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from nbclient import NotebookClient

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(
                argv=[
                    sys.executable,
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                    f"--IPKernelApp.exec_lines={FREEZE_AFTER_EACH_CELL}",
                ],
                display_name="Python 3",
                language="python",
            )

    km = KernelManager(kernel_spec_manager=ThisPython(), kernel_name="python3")
    return NotebookClient(
        nb,
        km=km,
        timeout=seconds,
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )


def unreadable(path, error):
    """Why a file is not a notebook, in one line a student understands."""
    name = Path(path).name
    if isinstance(error, UnicodeDecodeError):
        why = "it is not text (UTF-8)"
    elif isinstance(error, OSError):
        why = "the file cannot be read"
    elif isinstance(error, ValueError) and "JSON" in str(error):
        why = "it is not a notebook's JSON (damaged, or not a notebook)"
    else:
        why = "it is not a notebook Jupyter can open"
    return (
        f"{name} could not be opened: {why}; open it in Jupyter, "
        "check that it shows your work, and save it again"
    )


def run(path, seconds, emit, on_timeout):
    """Execute the notebook at path; a status dict.

    emit(record) is called after each cell that reported results. At the
    limit, on_timeout(status) is called from another thread, with the
    kernel killed; it must end the process (nbclient may wait on a dead
    kernel's messages for ever).
    """
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # any way a file can fail to be a notebook
        return {"status": "unreadable", "message": unreadable(path, e)}
    for cell in nb.cells:
        if cell.cell_type == "code" and SKIP_TAG in cell.metadata.get(
            "tags", []
        ):
            cell.source = "pass  # skipped while grading"
    read_end, write_end = os.pipe()
    fcntl.fcntl(read_end, fcntl.F_SETFL, os.O_NONBLOCK)
    os.environ[RESULTS_FD_VAR] = str(write_end)
    client = _client(nb, path.parent, seconds)
    budget = [RESULT_BYTES]

    def drain():
        data = b""
        while budget[0] > 0:
            try:
                chunk = os.read(read_end, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk[: budget[0]]
            budget[0] -= len(chunk)
        return data

    def after_cell(cell, cell_index, execute_reply):
        lines = drain().decode("utf-8", "replace").splitlines()
        results = []
        for line in lines:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict):
                results.append(r)
        if results:
            emit(
                {"cell": cell_index, "source": cell.source, "results": results}
            )
        cell.outputs = []  # a flood of output is not kept

    client.on_cell_executed = after_cell

    def stop():
        process = getattr(
            getattr(client.km, "provisioner", None), "process", None
        )
        if process is not None:
            process.kill()
        on_timeout({"status": "timed out", "seconds": seconds})

    finishing = threading.Event()
    client.on_notebook_complete = lambda **_: finishing.set()

    def watch():
        # A kernel killed mid-run (out of memory, say) leaves nbclient
        # waiting for a reply that never comes: say so at once.
        while not finishing.wait(0.5):
            process = getattr(
                getattr(client.km, "provisioner", None), "process", None
            )
            if (
                process is not None
                and process.poll() is not None
                and not finishing.is_set()
            ):
                on_timeout({"status": "failed", "message": DIED})
                return

    timer = threading.Timer(seconds, stop)
    start = time.monotonic()
    timer.start()
    threading.Thread(target=watch, daemon=True).start()
    try:
        client.execute(pass_fds=(write_end,))
    except Exception as e:
        if type(e).__name__ == "DeadKernelError":
            return {"status": "failed", "message": DIED}
        return {
            "status": "failed",
            "message": f"{type(e).__name__}: {str(e).splitlines()[0]}"[:300],
        }
    finally:
        timer.cancel()
    return {
        "status": "finished",
        "seconds": round(time.monotonic() - start, 1),
    }


def _not_dumpable():
    """Keep the kernel from opening this process's files or memory."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main(argv=None):
    path, seconds = argv or sys.argv[1:]
    _not_dumpable()
    # Only this process writes the report: the kernel and anything it
    # starts get /dev/null in its place.
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    lock = threading.Lock()

    def emit(record):
        with lock:
            report.write(json.dumps(record) + "\n")
            report.flush()

    def give_up(result):
        emit(result)
        os._exit(0)  # this process exists for this one notebook

    emit(run(path, float(seconds), emit, give_up))
    return 0


if __name__ == "__main__":
    sys.exit(main())
