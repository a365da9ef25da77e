"""Every loader refuses bad bytes with UnreadableFileError, cheaply, executing and writing nothing.

Loaders: ``saving.load_model`` (with the optimizer state), ``saving.load_weights``,
``datasets.idx.read_idx`` (raw and gzip), ``mnist.load_data`` on a Keras-style ``.npz`` and on a
folder of IDX files. Two kinds of proof:

- hypothesis feeds each loader random, truncated, bit-flipped and spliced files, random zip
  directories (traversal names, compression methods), random ``.npy`` headers and random JSON
  configs naming os/subprocess/builtins callables, and checks the exception, that no file
  appeared, that the sentinel never fired and the peak memory (tracemalloc) stays within a
  small multiple of the file's size;
- the crafted corpus of tests/hostile_files.py (bombs, huge and wrapping shapes, deep nesting,
  ``Dense(6000)`` on 6000 inputs...) is loaded in a subprocess under ``RLIMIT_AS`` with an audit
  hook that records process spawns, unpickling and files opened for writing.
"""

import functools
import json
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npgrad import errors, saving
from npgrad.datasets import CorruptFileError, DatasetError, idx, mnist
from npgrad.utils import safe_read
from tests import hostile_files as hf

ROOT = Path(__file__).resolve().parents[1]
# peak memory allowed to refuse (or load) a file: a small multiple of its size, plus the
# fixed cost of the Python objects a refusal makes (messages, a model's layers)
PEAK_FACTOR, PEAK_CONSTANT = 4, 2 * 2**20


@functools.lru_cache(maxsize=None)
def _valid():
    """Valid files of each kind, as bytes (a function, not a fixture: hypothesis would print
    the bytes of a fixture with every falsifying example)."""
    return {
        "model": hf.model_bytes(),
        "idx_gz": hf.idx_bytes(np.arange(6 * 28 * 28, dtype=np.uint8).reshape(6, 28, 28), True),
        "idx_raw": hf.idx_bytes(np.arange(40, dtype=np.int32)),
        "npz": hf.mnist_npz_bytes(),
    }


@pytest.fixture(scope="module")
def weights_model():
    return hf.small_model()


class Outcome:
    """Load ``data`` with ``loader`` in a fresh folder; record what happened and what it cost."""

    def __init__(self, folder, data, loader, name="file.bin"):
        self.folder = folder
        sentinel = folder / "SENTINEL"
        os.environ["NPGRAD_SENTINEL"] = str(sentinel)
        path = folder / name
        path.write_bytes(data)
        before = set(os.listdir(folder))
        tracemalloc.start()
        try:
            loader(path)
            self.error = None
        except Exception as error:  # noqa: BLE001 - classified below
            self.error = error
        finally:
            self.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            os.environ.pop("NPGRAD_SENTINEL", None)
        self.new_files = set(os.listdir(folder)) - before
        self.size = len(data)
        assert not sentinel.exists(), "code named by the file was executed"
        path.unlink()

    def check(self, may_load=True):
        if self.error is None:
            assert may_load, "a hostile file loaded"
        else:
            assert isinstance(self.error, errors.UnreadableFileError), repr(self.error)
            assert "file" in str(self.error)
        assert not self.new_files, self.new_files
        assert self.peak <= PEAK_FACTOR * self.size + PEAK_CONSTANT, (self.peak, self.size)


def _folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


# ----------------------------------------------------------------------------- mutations
@st.composite
def mutated(draw, data):
    """Truncated, bit-flipped, spliced or random versions of ``data``."""
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "random", "flip+truncate"]))
    if kind == "random":
        return draw(st.binary(max_size=2000))
    out = bytearray(data)
    if "flip" in kind:
        for position in draw(st.lists(st.integers(0, len(out) - 1), min_size=1, max_size=8)):
            out[position] ^= draw(st.integers(1, 255))
    if kind == "splice":
        start = draw(st.integers(0, len(out)))
        out[start:start + draw(st.integers(0, 64))] = draw(st.binary(max_size=64))
    if "truncate" in kind:
        out = out[:draw(st.integers(0, len(out)))]
    return bytes(out)


LOAD_SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


@LOAD_SETTINGS
@given(data=st.data())
def test_mutated_model_files_are_refused_or_load(tmp_path_factory, weights_model, data):
    content = data.draw(mutated(_valid()["model"]))
    folder = _folder(tmp_path_factory)
    Outcome(folder, content, saving.load_model, "file.npgrad").check()
    Outcome(folder, content, lambda p: saving.load_weights(weights_model, p), "file.npgrad").check()


@LOAD_SETTINGS
@given(data=st.data(), kind=st.sampled_from(["idx_gz", "idx_raw"]))
def test_mutated_idx_files_are_refused_or_load(tmp_path_factory, data, kind):
    content = data.draw(mutated(_valid()[kind]))
    Outcome(_folder(tmp_path_factory), content, idx.read_idx).check()


@LOAD_SETTINGS
@given(data=st.data())
def test_mutated_keras_npz_and_idx_folders_are_refused_or_load(tmp_path_factory, data):
    saved_spec, mnist.SPEC = mnist.SPEC, hf.SMALL_MNIST_SPEC
    try:
        Outcome(_folder(tmp_path_factory), data.draw(mutated(_valid()["npz"])), mnist.load_data,
                "file.npz").check()
        folder = _folder(tmp_path_factory)
        images = hf.idx_bytes(np.zeros((3, 28, 28), np.uint8))
        labels = hf.idx_bytes(np.zeros(3, np.uint8))
        for name, content in (("train-images-idx3-ubyte", images),
                              ("train-labels-idx1-ubyte", labels),
                              ("t10k-images-idx3-ubyte", images)):
            (folder / name).write_bytes(content)
        Outcome(folder, data.draw(mutated(labels)),
                lambda _: mnist.load_data(path=folder, verify=False),
                "t10k-labels-idx1-ubyte").check()
    finally:
        mnist.SPEC = saved_spec


# ----------------------------------------------------------------------------- crafted zips
ENTRY_NAMES = st.one_of(
    st.sampled_from(["__npgrad__.npy", "config.json.npy", "weights/00000.npy", "config.json",
                     "../../escape.npy", "/etc/passwd", "a/./b.npy", "C:\\w.npy", "x\x00.npy",
                     "optimizer/../w.npy", "", "a" * 2000]),
    st.text(max_size=30))


@LOAD_SETTINGS
@given(entries=st.lists(st.tuples(ENTRY_NAMES, st.binary(max_size=300)), max_size=6),
       compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                    zipfile.ZIP_LZMA]))
def test_random_zip_directories_are_refused(tmp_path_factory, entries, compression):
    entries = [(name, data) for name, data in entries if name]
    try:
        content = hf.zip_bytes(entries, compression)
    except (ValueError, UnicodeEncodeError, OSError):
        return  # a name zipfile itself cannot write
    Outcome(_folder(tmp_path_factory), content, saving.load_model, "file.npgrad").check(
        may_load=False)


@LOAD_SETTINGS
@given(shape=st.lists(st.integers(0, 2**63), max_size=4),
       descr=st.sampled_from(["<f4", "|u1", ">f8", "<i8", "|O", "|V16", "<U4", "<c16"]),
       data=st.binary(max_size=64))
def test_random_npy_headers_never_allocate_what_they_declare(tmp_path_factory, shape, descr,
                                                             data):
    entries = [(n, d) for n, d in _valid_entries() if n != "weights/00000.npy"]
    entries.append(("weights/00000.npy", hf.npy_header(shape, descr, data)))
    Outcome(_folder(tmp_path_factory), hf.zip_bytes(entries), saving.load_model,
            "file.npgrad").check()


@functools.lru_cache(maxsize=None)
def _valid_entries():
    import io

    with np.load(io.BytesIO(_valid()["model"]), allow_pickle=False) as archive:
        return tuple(hf._entries({name: archive[name] for name in archive.files}))


JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                        st.floats(allow_nan=False), st.text(max_size=10),
                        st.sampled_from([c for c in hf.hostile_calls("/nonexistent/x")
                                         if isinstance(c, str)]))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["class_name", "config", "module", "registered_name", "layers", "units", "activation",
         "kernel_initializer", "batch_input_shape", "inbound_nodes", "name"]), inner,
        max_size=5)), max_leaves=30)


@LOAD_SETTINGS
@given(model=JSON_VALUES, compile_config=JSON_VALUES,
       hostile=st.sampled_from(hf.hostile_calls("/nonexistent/x")))
def test_random_configs_never_execute_anything(tmp_path_factory, model, compile_config,
                                               hostile):
    folder = _folder(tmp_path_factory)
    valid = _valid()
    arrays = json.loads(np.load(_write(folder, valid["model"]))["config.json"].tobytes())
    for target in (model, {"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Dense", "config": {"units": 2, "activation": hostile,
                                               "kernel_initializer": hostile}}]}}):
        meta = dict(arrays, model=target, compile=compile_config)
        content = _replace_config(valid["model"], meta)
        Outcome(folder, content, saving.load_model, "file.npgrad").check()


def _write(folder, data):
    path = folder / "valid.npgrad"
    path.write_bytes(data)
    return path


def _replace_config(model_file_bytes, meta):
    import io

    with np.load(io.BytesIO(model_file_bytes), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["config.json"] = hf._json(meta)
    return hf.zip_bytes(hf._entries(arrays))


# ----------------------------------------------------------------------------- crafted corpus
@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="RLIMIT_AS and /proc/self/status are Linux's")
def test_crafted_corpus_is_refused_within_a_memory_limit(tmp_path):
    """Bombs, huge shapes, traversal names, deep nesting, hostile callables: all refused in a
    subprocess whose address space is capped at its size after imports + 160 MB."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
               PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, "-m", "tests.hostile_files", str(tmp_path), "160"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    summary, rows = rows[-1], rows[:-1]
    assert summary["done"] == len(rows) > 200
    for row in rows:
        random = "-random_" in row["file"]
        allowed = ("UnreadableFileError", "loaded") if random else ("UnreadableFileError",)
        assert row["outcome"] in allowed, row
        assert not row["events"] and not row["new_files"] and not row["sentinel"], row
        assert row["peak"] <= PEAK_FACTOR * row["size"] + PEAK_CONSTANT, row
    # the process's peak RSS stayed under the limit, or was reached before it was set (while
    # importing: freed since, so the address space the limit counts from is smaller)
    assert summary["maxrss"] < summary["limit"] or summary["maxrss"] == summary["import_peak"]
    refused = sum(row["outcome"] == "UnreadableFileError" for row in rows)
    worst = max(rows, key=lambda row: row["peak"])
    print(f"\ncrafted corpus: {len(rows)} loads, {refused} refused cleanly, "
          f"{len(rows) - refused} random mutations loaded; peak traced memory "
          f"{worst['peak']} B ({worst['file']}, {worst['size']} B); maxrss "
          f"{summary['maxrss'] >> 20} MiB under an RLIMIT_AS of {summary['limit'] >> 20} MiB")


# ----------------------------------------------------------------------------- the family
def test_the_exception_family():
    assert issubclass(errors.UnreadableFileError, ValueError)
    assert issubclass(CorruptFileError, errors.UnreadableFileError)
    assert issubclass(CorruptFileError, DatasetError) and issubclass(CorruptFileError, OSError)
    error = CorruptFileError("bad.gz: truncated", "bad.gz", entry="x_train")
    assert str(error) == "bad.gz: truncated" and error.path == Path("bad.gz")
    assert error.reason == "bad.gz: truncated" and error.entry == "x_train"
    error = errors.UnreadableFileError("m.npgrad", "bad marker", entry="__npgrad__")
    assert (error.path, error.entry, error.reason) == ("m.npgrad", "__npgrad__", "bad marker")
    assert "m.npgrad" in str(error) and "__npgrad__" in str(error)
    import pickle

    for original in (error, CorruptFileError("x.gz: bad", "x.gz", "e")):
        copy = pickle.loads(pickle.dumps(original))  # e.g. across multiprocessing or MPI
        assert type(copy) is type(original) and str(copy) == str(original)
        assert (copy.path, copy.entry, copy.reason) == (original.path, original.entry,
                                                        original.reason)


def test_safe_zip_limits_can_be_lowered(tmp_path, monkeypatch):
    valid = _valid()
    path = tmp_path / "m.npgrad"
    path.write_bytes(valid["model"])
    with safe_read.SafeZip(path) as archive:
        assert "config.json.npy" in archive.names
    monkeypatch.setattr(safe_read, "MAX_ENTRIES", 2)
    with pytest.raises(errors.UnreadableFileError, match="entries"):
        safe_read.SafeZip(path)
    monkeypatch.setattr(safe_read, "MAX_ENTRIES", 100)
    monkeypatch.setattr(safe_read, "MAX_ARRAY_BYTES", 64)
    with pytest.raises(errors.UnreadableFileError, match="limit"):
        saving.load_model(path)


def test_json_depth_and_size_limits():
    assert safe_read.json_depth({"a": [1, {"b": []}]}) == 4 and safe_read.json_depth(7) == 0
    assert safe_read.loads_json(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(errors.UnreadableFileError, match="nested 101 levels"):
        safe_read.loads_json(b"[" * 101 + b"]" * 101)
    with pytest.raises(errors.UnreadableFileError, match="limit"):
        safe_read.loads_json(b"[1]", max_bytes=2)
    with pytest.raises(errors.UnreadableFileError, match="UTF-8"):
        safe_read.loads_json(b"\xff\xfe")


def test_a_weight_budget_refuses_before_allocating():
    from npgrad import layers
    from npgrad.utils.weight_budget import WeightBudgetExceeded, weight_budget

    tracemalloc.start()
    with weight_budget(1000, "a test"):
        layers.Dense(3).build((None, 4))  # 15 values: fits
        with pytest.raises(WeightBudgetExceeded, match=r"\(6000, 6000\)"):
            layers.Dense(6000).build((None, 6000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20  # the 144 MB kernel was never allocated
    layers.Dense(3).build((None, 4))  # no budget outside the block
