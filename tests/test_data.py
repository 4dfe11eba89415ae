"""The dataset: where it is found, how it is downloaded and checked."""

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from microgpt import data
from microgpt.data import DataError, load_docs, resolve_data_path

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def real_data():
    """The real names.txt, which every test run points to."""
    path = os.environ.get(data.ENV_VAR)
    if not path:
        pytest.fail(f"set {data.ENV_VAR} to the path of names.txt")
    return Path(path)


class FakeResponse:
    """What urlopen returns: bytes read in chunks, maybe failing midway."""

    def __init__(self, body, fail_after=None, error=None):
        self.body, self.pos = body, 0
        self.fail_after, self.error = fail_after, error

    def read(self, n):
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise self.error
        chunk = self.body[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def net(monkeypatch):
    """Replace urlopen: tests set .respond; every call's url is recorded."""

    class Net:
        urls = []

        def respond(self, url, timeout=None):
            raise AssertionError("this test must not download")

    fake = Net()

    def urlopen(url, timeout=None):
        fake.urls.append(url)
        return fake.respond(url, timeout)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return fake


@pytest.fixture
def cache(monkeypatch, tmp_path, net):
    """An empty user cache, no MICROGPT_DATA and no network."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = data.cache_path()
    assert path == tmp_path / "cache" / "microgpt" / "names.txt"
    return path


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sha256(b):
    return hashlib.sha256(b).hexdigest()


# -- the real dataset ---------------------------------------------------------


def test_the_real_dataset_has_the_pinned_checksum(real_data):
    assert data.sha256_of(real_data) == data.DATA_SHA256
    assert "988aa59" in data.DATA_URL  # makemore at the original's commit
    assert data.DATA_URL.endswith("/names.txt")


def test_documents_are_the_stripped_non_blank_lines(real_data):
    lines = real_data.read_text(encoding="utf-8").splitlines()
    docs = load_docs(real_data)
    assert docs == [ln.strip() for ln in lines if ln.strip()]
    assert all(d and d == d.strip() for d in docs)


# -- resolution order: argument, MICROGPT_DATA, cache, download ---------------


def test_an_argument_wins_over_everything(
    cache, monkeypatch, real_data, tmp_path
):
    monkeypatch.setenv(data.ENV_VAR, str(real_data))
    write(cache, "cached\n")
    mine = write(tmp_path / "mine.txt", " ann \n\n bob\n")
    assert resolve_data_path(mine) == mine
    assert load_docs(mine) == ["ann", "bob"]


def test_a_users_own_file_is_not_checksum_checked(cache, tmp_path):
    mine = write(tmp_path / "mine.txt", "zoe\n")
    assert data.sha256_of(mine) != data.DATA_SHA256
    assert load_docs(str(mine)) == ["zoe"]


def test_the_environment_variable_comes_before_the_cache(
    cache, monkeypatch, real_data, net
):
    write(cache, "not the dataset\n")  # would fail its checksum
    monkeypatch.setenv(data.ENV_VAR, str(real_data))
    assert resolve_data_path() == real_data
    assert net.urls == []


def test_the_environment_variable_must_name_a_file(
    cache, monkeypatch, tmp_path
):
    missing = tmp_path / "nowhere.txt"
    monkeypatch.setenv(data.ENV_VAR, str(missing))
    with pytest.raises(DataError) as e:
        load_docs()
    assert data.ENV_VAR in str(e.value) and str(missing) in str(e.value)


def test_the_environment_variable_is_checksum_checked(
    cache, monkeypatch, tmp_path
):
    # It stands in for the real names.txt (tests and CI use it), so a wrong
    # file there is an error; a file of your own goes by --data / argument.
    wrong = write(tmp_path / "names.txt", "amy\n")
    monkeypatch.setenv(data.ENV_VAR, str(wrong))
    with pytest.raises(DataError) as e:
        load_docs()
    msg = str(e.value)
    assert str(wrong) in msg
    assert sha256(b"amy\n") in msg and data.DATA_SHA256 in msg
    assert data.ENV_VAR in msg and "--data" in msg  # what to do instead


def test_the_cache_comes_before_a_download(cache, real_data, net):
    cache.parent.mkdir(parents=True)
    cache.write_bytes(real_data.read_bytes())
    assert resolve_data_path() == cache
    assert net.urls == []


def test_a_corrupt_cache_names_the_file_and_both_hashes(cache, net):
    write(cache, "corrupt\n")
    with pytest.raises(DataError) as e:
        load_docs()
    msg = str(e.value)
    assert str(cache) in msg
    assert sha256(b"corrupt\n") in msg and data.DATA_SHA256 in msg
    assert "delete this cached copy" in msg
    assert net.urls == []


def test_no_cache_downloads_the_pinned_file_into_the_cache(
    cache, real_data, net
):
    body = real_data.read_bytes()
    net.respond = lambda url, timeout: FakeResponse(body)
    assert resolve_data_path() == cache
    assert net.urls == [data.DATA_URL]
    assert cache.read_bytes() == body
    assert os.listdir(cache.parent) == ["names.txt"]  # no temp file left
    assert load_docs() == load_docs(real_data)
    assert net.urls == [data.DATA_URL]  # the second time from the cache


# -- a download that goes wrong leaves nothing --------------------------------


def test_a_checksum_mismatch_names_the_file_and_both_hashes(cache, net):
    body = b"<html>not the names</html>\n"
    net.respond = lambda url, timeout: FakeResponse(body)
    with pytest.raises(DataError) as e:
        load_docs()
    msg = str(e.value)
    assert data.DATA_URL in msg and str(cache) in msg
    assert sha256(body) in msg and data.DATA_SHA256 in msg
    assert os.listdir(cache.parent) == []


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("connection reset by peer"),
        TimeoutError("timed out"),
        http.client.IncompleteRead(b"partial", 1000),
    ],
    ids=["reset", "timeout", "incomplete"],
)
def test_a_download_cut_short_leaves_nothing(cache, real_data, net, error):
    body = real_data.read_bytes()
    # Fail after the first chunk, so a partial file really exists.
    net.respond = lambda url, timeout: FakeResponse(body, 1, error)
    with pytest.raises(DataError) as e:
        load_docs()
    assert "could not download" in str(e.value)
    assert data.DATA_URL in str(e.value)
    assert os.listdir(cache.parent) == []


def test_a_failing_connection_is_a_data_error(cache, net):
    def refuse(url, timeout):
        raise urllib.error.URLError("name resolution failed")

    net.respond = refuse
    with pytest.raises(DataError, match="could not download") as e:
        load_docs()
    assert not cache.exists()
    # The one line says how to work offline with a copy at hand.
    assert f"set {data.ENV_VAR} to its absolute path" in str(e.value)


# -- bad files given by path --------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "\n", "  \n\t\n"], ids=["empty", "newline", "blank"]
)
def test_an_empty_dataset_is_an_error(tmp_path, text):
    path = write(tmp_path / "empty.txt", text)
    with pytest.raises(DataError) as e:
        load_docs(path)
    assert "empty" in str(e.value) and str(path) in str(e.value)


def test_a_missing_file_is_an_error(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(DataError) as e:
        load_docs(path)
    assert "not found" in str(e.value) and str(path) in str(e.value)


def test_a_binary_file_is_an_error(tmp_path):
    path = tmp_path / "names.bin"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError) as e:
        load_docs(path)
    assert "UTF-8" in str(e.value) and str(path) in str(e.value)


def test_a_folder_or_a_fifo_is_named_for_what_it_is(tmp_path, monkeypatch):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # never opened: reading it would wait for a writer
    for path, what in [
        (tmp_path, "is a folder"),
        (fifo, "is not a regular file"),
    ]:
        with pytest.raises(DataError) as e:
            load_docs(path)
        assert f"the dataset {path} {what}" in str(e.value)
        monkeypatch.setenv(data.ENV_VAR, str(path))
        with pytest.raises(DataError) as e:
            load_docs()
        assert f"{path} (from ${data.ENV_VAR}) {what}" in str(e.value)


# -- the held-out split -------------------------------------------------------


def test_a_split_is_a_seeded_partition_in_file_order():
    docs = [f"name{i}" for i in range(50)]
    train_docs, val_docs = data.split_docs(docs, 0.2, seed=7)
    assert len(val_docs) == 10 and len(train_docs) == 40
    assert sorted(train_docs + val_docs) == sorted(docs)
    assert train_docs == [d for d in docs if d not in val_docs]
    assert val_docs == [d for d in docs if d in val_docs]  # file order
    assert data.split_docs(docs, 0.2, seed=7) == (train_docs, val_docs)
    assert data.split_docs(docs, 0.2, seed=8)[1] != val_docs


def test_a_split_draws_from_its_own_generator():
    import random

    random.seed(1)
    before = random.random()
    random.seed(1)
    data.split_docs(["a", "b", "c", "d"], 0.5)
    assert random.random() == before  # the global stream is untouched


def test_the_default_split_of_names_is_fixed(docs):
    train_docs, val_docs = data.split_docs(docs, 0.1)
    assert (len(train_docs), len(val_docs)) == (28830, 3203)
    assert val_docs[:3] == ["olivia", "avery", "victoria"]


@pytest.mark.parametrize(
    "fraction", [0, 1, -0.1, 1.5, float("nan"), True, "0.1"]
)
def test_a_fraction_outside_zero_to_one_is_refused(fraction):
    with pytest.raises(ValueError, match="between 0 and 1"):
        data.split_docs(["a", "b", "c"], fraction)


def test_a_split_keeps_at_least_one_of_each():
    assert len(data.split_docs(["a", "b", "c"], 0.01)[1]) == 1
    with pytest.raises(ValueError, match="leaves none to train on"):
        data.split_docs(["a", "b"], 0.9)
