"""Seal one notebook's run off from everything else, with bubblewrap.

The grader runs each notebook through command(): bubblewrap (``bwrap``,
Debian's ``bubblewrap``) starts it in new namespaces (``--unshare-all``:
no network, its own process numbers, its own mounts) where the disk
holds only the system's programs and libraries, this Python, its
virtual environment and this package, all read-only, the data files
named by ``MICROGPT_DATA`` and ``MICROGPT_TEXT`` read-only, an empty
private ``/tmp``, and one writable folder: the private copy of the
notebook's own folder. ``--die-with-parent`` ends every process of the
sandbox when the grader's process that started it ends.

limits() caps what the run may use. Memory and the number of processes
go in a control group of its own where the kernel lets this process make
one (cgroup v1 or v2); elsewhere, memory falls back to an address-space
limit (``RLIMIT_AS``) and processes to ``RLIMIT_NPROC``, which the
kernel does not apply to root. The size of any file written, and core
dumps, are capped by resource limits in every case.
"""

import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from importlib.resources import files
from pathlib import Path

INSIDE = "/submission"  # the notebook's private folder, in the sandbox
INSTALL = (
    "bubblewrap is not installed: install it (Debian, Ubuntu: "
    "apt-get install bubblewrap), or pass --trusted to grade "
    "without a sandbox, only work you trust"
)
# The files of /etc that Python, fonts and matplotlib read.
ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "fonts",
    "localtime",
    "passwd",
    "group",
    "nsswitch.conf",
    "mime.types",
    "matplotlibrc",
)
FILE_BYTES = 64 << 20  # the largest file a notebook may write


def problem():
    """None if bubblewrap can seal a run off here; else why not, a line."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return INSTALL
    probe = subprocess.run(
        [
            bwrap,
            "--ro-bind",
            "/",
            "/",
            "--unshare-all",
            "--die-with-parent",
            "true",
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        said = (probe.stderr.strip().splitlines() or ["it failed"])[-1]
        hint = (
            " (Ubuntu 23.10 and later restrict user namespaces: "
            "sudo sysctl -w kernel.apparmor_restrict_unprivileged_"
            "userns=0, or an AppArmor profile for bwrap)"
            if "Permission denied" in said or "RTM_NEWADDR" in said
            else ""
        )
        return f"bubblewrap cannot start a sandbox here: {said}{hint}"
    return None


def _bind_system(args):
    """Bind the system's programs and libraries, read-only."""
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/", top)
        if path.is_symlink():  # a merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC:
        if Path("/etc", name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]


def command(folder, argv, env=None):
    """The bwrap command line that runs argv in the sealed-off folder.

    folder: the private copy, seen inside as INSIDE (the working folder).
    env: extra variables; the rest of the environment is cleared.
    """
    args = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--clearenv",
    ]
    _bind_system(args)
    # The installed package's own folder, which the sandbox reads.
    package = Path(str(files("microgpt"))).resolve()
    for path in {
        Path(sys.base_prefix).resolve(),
        Path(sys.prefix).resolve(),
        package,
    }:
        args += ["--ro-bind", str(path), str(path)]
    for var in ("MICROGPT_DATA", "MICROGPT_TEXT"):
        data = os.environ.get(var)
        if data and Path(data).is_file():
            real = str(Path(data).resolve())
            args += ["--ro-bind", real, real, "--setenv", var, real]
    args += ["--bind", str(folder), INSIDE, "--chdir", INSIDE]
    fixed = {
        "HOME": "/tmp",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
    }
    for name, value in {**fixed, **(env or {})}.items():
        args += ["--setenv", name, value]
    return args + ["--"] + list(argv)


def _own_cgroups():
    """(controller, path) of each writable cgroup folder of this process."""
    found = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, where = line.split(":", 2)
        for controller in ("memory", "pids"):
            if controllers == "":  # cgroup v2
                base = Path("/sys/fs/cgroup") / where.lstrip("/")
                if (base / f"{controller}.max").exists() or (
                    controller == "memory" and (base / "memory.max").exists()
                ):
                    found.append((controller, base, 2))
            elif controller in controllers.split(","):
                found.append(
                    (
                        controller,
                        Path("/sys/fs/cgroup", controller) / where.lstrip("/"),
                        1,
                    )
                )
    return found


class Limits:
    """A run's limits: made before it starts, undone once it has ended.

    memory: bytes for the whole run, every process together (a control
    group) or each process (RLIMIT_AS). processes: at most this many.
    """

    def __init__(self, memory, processes):
        self.memory, self.processes = memory, processes
        self.groups, self.how = [], []
        name = f"microgpt-grade-{uuid.uuid4().hex[:12]}"
        for controller, base, version in _own_cgroups():
            group = base / name
            try:
                group.mkdir()
            except OSError:
                continue
            try:
                if controller == "memory":
                    (
                        group
                        / (
                            "memory.max"
                            if version == 2
                            else "memory.limit_in_bytes"
                        )
                    ).write_text(str(memory))
                else:
                    (group / "pids.max").write_text(str(processes))
            except OSError:
                group.rmdir()
                continue
            self.groups.append(group)
            self.how.append(f"{controller} cgroup v{version}")
        self.cgroup_memory = any("memory" in h for h in self.how)
        self.cgroup_pids = any("pids" in h for h in self.how)

    def describe(self):
        """How memory and processes are limited, in words."""
        memory = (
            "a memory cgroup"
            if self.cgroup_memory
            else "RLIMIT_AS (each process)"
        )
        pids = (
            "a pids cgroup"
            if self.cgroup_pids
            else "RLIMIT_NPROC (not applied to root)"
        )
        return f"memory by {memory}, processes by {pids}"

    def enter(self):
        """Apply the limits to this process (a child, before exec)."""
        for group in self.groups:
            (group / "cgroup.procs").write_text(str(os.getpid()))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
        if not self.cgroup_memory:
            resource.setrlimit(resource.RLIMIT_AS, (self.memory, self.memory))
        if not self.cgroup_pids:
            resource.setrlimit(
                resource.RLIMIT_NPROC, (self.processes, self.processes)
            )

    def close(self):
        """Kill whatever is left in the groups, and remove them."""
        for group in self.groups:
            procs = group / "cgroup.procs"
            for _ in range(50):
                try:
                    pids = procs.read_text().split()
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), 9)
                    except OSError:
                        pass
                time.sleep(0.05)
            try:
                group.rmdir()
            except OSError:
                pass
