"""Output files: checked before any work, written whole or not at all."""

import os

import pytest

from microgpt import outputs

pytestmark = pytest.mark.cli


def refused(outs, ins=()):
    with pytest.raises(ValueError) as e:
        outputs.check(outs, ins)
    return str(e.value)


def test_a_new_file_and_an_old_one_may_be_written(tmp_path):
    (tmp_path / "old.json").write_text("{}")
    outputs.check(
        [
            ("--save", str(tmp_path / "new.npz")),
            ("--log", str(tmp_path / "old.json")),
            ("--x", None),
        ],
        [("--data", None)],
    )
    assert os.listdir(tmp_path) == ["old.json"]  # the probe is gone


def test_what_is_not_a_file_path_is_refused(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "file").write_text("mine")
    assert "--out needs a file path" in refused([("--out", "")])
    assert f"--out {tmp_path}: is a folder" in refused(
        [("--out", str(tmp_path))]
    )
    assert (
        f"--out {fifo}: is not a regular file (a device, FIFO or "
        f"socket)" in refused([("--out", str(fifo))])
    )
    assert f"folder {tmp_path / 'no'} does not exist" in refused(
        [("--out", str(tmp_path / "no" / "m.npz"))]
    )
    assert f"{tmp_path / 'file'} is not a folder" in refused(
        [("--out", str(tmp_path / "file" / "m.npz"))]
    )
    assert fifo.exists() and (tmp_path / "file").read_text() == "mine"


@pytest.mark.skipif(
    not os.path.isdir("/proc/self"),
    reason="needs Linux's /proc, where nobody can write",
)
def test_a_folder_that_cannot_be_written_is_found_by_trying():
    assert "--out /proc/m.npz: cannot write in folder /proc: " in refused(
        [("--out", "/proc/m.npz")]
    )


def test_an_input_is_never_an_output(tmp_path):
    data = tmp_path / "d.txt"
    data.write_text("emma\n")
    (tmp_path / "link.txt").symlink_to(data)
    os.link(data, tmp_path / "hard.txt")
    for out in ("d.txt", "./d.txt", "link.txt", "hard.txt"):
        message = refused(
            [("--save", str(tmp_path / out))], [("--data", str(data))]
        )
        assert (
            f"the same file as --data {data}, which it would "
            f"overwrite" in message
        )
    assert data.read_text() == "emma\n"


def test_two_outputs_are_two_files_even_before_they_exist(tmp_path):
    a, b = str(tmp_path / "x"), f"{tmp_path}/sub/../x"
    (tmp_path / "sub").mkdir()
    assert (
        f"--log {b}: the same file as --save {a}; give each its "
        f"own" in refused([("--save", a), ("--log", b)])
    )
    outputs.check([("--save", a), ("--log", str(tmp_path / "y"))])


# -- atomic_write -------------------------------------------------------------


def test_atomic_write_writes_the_whole_file(tmp_path):
    path = outputs.atomic_write(
        tmp_path / "a.json", lambda f: f.write(b"{}\n")
    )
    assert path.read_bytes() == b"{}\n"
    assert os.listdir(tmp_path) == ["a.json"]


def test_a_failed_write_keeps_the_old_file_and_names_the_users_path(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old")

    def fail(f):
        f.write(b"half")
        raise OSError(28, "No space left on device", f.name)

    with pytest.raises(OSError) as e:
        outputs.atomic_write(path, fail)
    assert str(e.value) == f"cannot write {path}: No space left on device"
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.json"]


def test_atomic_write_never_replaces_what_is_not_a_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="it is not a regular file"):
        outputs.atomic_write(fifo, lambda f: f.write(b"x"))
    assert fifo.exists() and not fifo.is_file()


@pytest.mark.skipif(
    not os.path.isdir("/proc/self"),
    reason="needs Linux's /proc, where nobody can write",
)
@pytest.mark.parametrize(
    "write, path",
    [
        (outputs.atomic_write, "/proc/a.json"),
        (outputs.atomic_folder, "/proc/out"),
    ],
)
def test_a_temporary_file_or_folder_that_cannot_be_made_is_not_named(
    write, path
):
    with pytest.raises(OSError) as e:
        write(path, lambda f: None)
    assert str(e.value).startswith(f"cannot write {path}: ")
    assert ".part" not in str(e.value)
    assert outputs.PREFIX not in str(e.value)


# -- atomic_folder ------------------------------------------------------------


def test_atomic_folder_appears_whole_with_the_usual_mode(tmp_path):
    def fill(folder):
        (folder / "sub").mkdir()
        (folder / "sub" / "a.txt").write_text("a")

    out = outputs.atomic_folder(tmp_path / "out", fill)
    assert (out / "sub" / "a.txt").read_text() == "a"
    assert os.listdir(tmp_path) == ["out"]
    assert out.stat().st_mode & 0o777 == 0o777 & ~outputs.umask()


def test_atomic_folder_may_take_an_empty_folder_and_no_other(tmp_path):
    (tmp_path / "empty").mkdir()
    outputs.atomic_folder(
        tmp_path / "empty", lambda f: (f / "a.txt").write_text("a")
    )
    assert os.listdir(tmp_path / "empty") == ["a.txt"]
    with pytest.raises(outputs.OutputError, match="not an empty folder"):
        outputs.atomic_folder(tmp_path / "empty", lambda f: None)
    assert os.listdir(tmp_path) == ["empty"]


def test_a_new_folder_needs_a_folder_to_go_in(tmp_path):
    (tmp_path / "file").write_text("x")
    outputs.check_new_folder(tmp_path / "new")  # fine: nothing there
    with pytest.raises(outputs.OutputError, match="not an empty folder"):
        outputs.check_new_folder(tmp_path / "file")
    with pytest.raises(outputs.OutputError, match="does not exist"):
        outputs.check_new_folder(tmp_path / "no" / "new")
    with pytest.raises(outputs.OutputError, match="does not exist"):
        outputs.atomic_folder(tmp_path / "no" / "new", lambda f: None)
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_a_failed_fill_leaves_nothing_behind(tmp_path):
    def fail(folder):
        (folder / "half.txt").write_text("half")
        raise ValueError("a bad notebook")

    with pytest.raises(ValueError, match="a bad notebook"):
        outputs.atomic_folder(tmp_path / "out", fail)
    assert os.listdir(tmp_path) == []


# -- LineLog ------------------------------------------------------------------


def test_each_line_is_in_the_file_as_soon_as_it_is_written(tmp_path):
    path = tmp_path / "log.jsonl"
    log = outputs.LineLog("--log", path)
    log.write('{"step": 1}')
    assert path.read_text() == '{"step": 1}\n'  # before close: tail -f
    log.close()


@pytest.mark.skipif(
    not os.path.exists("/dev/full"),
    reason="needs Linux's /dev/full, a disk that is full",
)
def test_a_log_error_names_the_log_once():
    log = outputs.LineLog("--log", "/dev/full")
    with pytest.raises(OSError) as e:
        log.write("x")
    assert str(e.value) == "--log /dev/full: No space left on device"
    log.close()  # quietly: the error is told once
