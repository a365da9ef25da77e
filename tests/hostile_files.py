"""Hostile files for every npgrad loader, and a worker that loads them under a memory limit.

Used by tests/test_hostile_files.py in two ways:
- in the test process, the builders here feed hypothesis (random, truncated, bit-flipped files);
- ``python -m tests.hostile_files FOLDER`` loads the crafted corpus (bombs, huge shapes,
  traversal names, deep nesting, configs naming os/subprocess/builtins callables) in a
  subprocess under ``resource.setrlimit(RLIMIT_AS)``, with an audit hook that records any
  process spawn, unpickling or file opened for writing, and prints one JSON line per file:
  the loader, the outcome (exception type), the peak memory (tracemalloc) and the file size.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import re
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

import npgrad
from npgrad import layers, optimizers, saving
from npgrad.datasets import idx, mnist
from npgrad.errors import UnreadableFileError

SENTINEL_MODULE = "tests.hostile_sentinel"
#: Prefix of the model files whose only fault is in the config or optimizer state, which
#: load_weights rightly ignores (it reads the weights only).
CONFIG_ONLY = "config_"


# ----------------------------------------------------------------------------- valid files
def small_model(seed=0):
    """A compiled, once-fitted model (weights, BatchNorm statistics, Adam slots)."""
    npgrad.utils.set_random_seed(seed)
    model = npgrad.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                               layers.BatchNormalization(), layers.Dense(2)])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    rng = np.random.default_rng(seed)
    model.fit(rng.normal(size=(8, 3)).astype(np.float32), np.zeros((8, 2), np.float32),
              epochs=1, batch_size=8, verbose=0)
    return model


def model_bytes(model=None):
    model = model or small_model()
    out = io.BytesIO()
    arrays = _model_arrays(model)
    np.savez(out, **arrays)
    return out.getvalue()


def _model_arrays(model):
    """The arrays save_model writes, built the same way (so entries can be tampered with)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.npgrad")
        saving.save_model(model, path)
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}


def idx_bytes(array, compress=False):
    array = np.asarray(array)
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}[array.dtype]
    content = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) \
        + np.ascontiguousarray(array, array.dtype.newbyteorder(">")).tobytes()
    return gzip.compress(content, mtime=0) if compress else content


def mnist_npz_bytes(n=4):
    rng = np.random.default_rng(0)
    out = io.BytesIO()
    np.savez_compressed(out, x_train=rng.integers(0, 255, (n, 28, 28), dtype=np.uint8),
                        y_train=rng.integers(0, 10, n, dtype=np.uint8),
                        x_test=rng.integers(0, 255, (n, 28, 28), dtype=np.uint8),
                        y_test=rng.integers(0, 10, n, dtype=np.uint8))
    return out.getvalue()


# ----------------------------------------------------------------------------- loaders
def load_model(path):
    return saving.load_model(path)


def load_weights(path):
    return saving.load_weights(small_model(), path)


def read_idx(path):
    return idx.read_idx(path)


#: MNIST's spec with any number of rows (the crafted files are small); the loaders read
#: ``mnist.SPEC`` at call time, so the worker and the tests swap it in.
SMALL_MNIST_SPEC = dataclasses.replace(
    mnist.SPEC, sha256={},
    files={name: (dtype, (None,) + shape[1:]) for name, (dtype, shape) in mnist.SPEC.files.items()})


def mnist_npz(path):
    return mnist.load_data(path=path)


LOADERS = {"load_model": load_model, "load_weights": load_weights, "read_idx": read_idx,
           "mnist_npz": mnist_npz}


# ----------------------------------------------------------------------------- crafting
def npy(array):
    out = io.BytesIO()
    np.lib.format.write_array(out, np.asarray(array), allow_pickle=True)
    return out.getvalue()


def npy_header(shape, descr="<f4", data=b"", version=(1, 0)):
    """An .npy entry whose header declares ``shape`` whatever ``data`` really holds."""
    out = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(out, header)
    else:
        np.lib.format.write_array_header_2_0(out, header)
    return out.getvalue() + data


def zip_bytes(entries, compression=zipfile.ZIP_STORED):
    """A zip of raw ``{name: bytes}`` entries (names taken as given: traversal included)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return out.getvalue()


def _entries(arrays):
    return [(name + ".npy", npy(value)) for name, value in arrays.items()]


def _json(obj):
    return np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)


def _with_meta(arrays, edit):
    arrays = dict(arrays)
    meta = json.loads(arrays["config.json"].tobytes())
    edit(meta)
    arrays["config.json"] = _json(meta)
    return arrays


def _patch_sizes(data, file_size):
    """Rewrite every uncompressed-size field (local and central headers) to ``file_size``."""
    data = bytearray(data)
    position = 0
    while (position := data.find(b"PK\x03\x04", position)) >= 0:
        struct.pack_into("<I", data, position + 22, file_size)
        position += 4
    position = 0
    while (position := data.find(b"PK\x01\x02", position)) >= 0:
        struct.pack_into("<I", data, position + 24, file_size)
        position += 4
    return bytes(data)


def _set_flag(data, flag):
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = 0
        while (position := data.find(signature, position)) >= 0:
            struct.pack_into("<H", data, position + offset,
                             struct.unpack_from("<H", data, position + offset)[0] | flag)
            position += 4
    return bytes(data)


def _overlapping(entries):
    """A zip whose second entry's directory record points at the first entry's data."""
    data = bytearray(zip_bytes(entries))
    central = [m for m in range(len(data)) if data[m:m + 4] == b"PK\x01\x02"]
    first_offset = struct.unpack_from("<I", data, central[0] + 42)[0]
    struct.pack_into("<I", data, central[1] + 42, first_offset)
    return bytes(data)


class _Payload:
    """Unpickling this would run the sentinel."""

    def __reduce__(self):
        import importlib

        return (importlib.import_module, (SENTINEL_MODULE,))


def hostile_calls(sentinel):
    """Config fragments that name callables outside npgrad's registries."""
    command = f"touch {sentinel}"
    return [
        "os.system", "subprocess.Popen", "builtins.eval", "builtins.exec", "__import__",
        f"{SENTINEL_MODULE}.fire", f"{SENTINEL_MODULE}>fire",
        {"class_name": "system", "module": "os", "config": {"command": command}},
        {"class_name": "Popen", "module": "subprocess", "config": {"args": ["touch", sentinel]}},
        {"class_name": "eval", "module": "builtins", "config": {"source": command}},
        {"class_name": "fire", "module": SENTINEL_MODULE, "registered_name": "fire",
         "config": {}},
        {"class_name": "function", "config": "os.system", "module": "builtins"},
        {"class_name": "__main__.fire", "config": {}, "registered_name": f"{SENTINEL_MODULE}>fire"},
    ]


def _dense_layer_config(units, inputs):
    return {"class_name": "Dense", "config": {"name": "big", "units": units,
                                              "batch_input_shape": [None, inputs]}}


def _nested_model_json(depth):
    """A Functional config nested ``depth`` models deep (as text: json.dumps would recurse)."""
    return ('{"class_name": "Functional", "config": {"name": "f", "layers": [' * depth
            + '{"class_name": "InputLayer", "config": {"batch_shape": [null, 2]}}'
            + "]}}" * depth)


def crafted_model_files(sentinel):
    """(name, bytes) of hostile .npgrad files, each of which must be refused."""
    arrays = _model_arrays(small_model())
    good = _entries(arrays)
    files = []

    def meta_case(name, edit):
        files.append((CONFIG_ONLY + name, zip_bytes(_entries(_with_meta(arrays, edit)))))

    # --- entry names and kinds
    files.append(("non_npy_entry", zip_bytes(
        [(n, d) for n, d in good if n != "config.json.npy"]
        + [("config.json", arrays["config.json"].tobytes())])))
    for name in ("../../escape.npy", "/etc/passwd.npy", "weights/../../x.npy", "C:\\x.npy",
                 "a\x00b.npy"):
        files.append((f"traversal_{name[:6]}", zip_bytes(good + [(name, npy(np.ones(2)))])))
    files.append(("duplicate_entry", zip_bytes(good + [good[-1]])))
    files.append(("encrypted", _set_flag(zip_bytes(good), 0x1)))
    files.append(("bzip2", zip_bytes(good, zipfile.ZIP_BZIP2)))
    files.append(("lzma", zip_bytes(good, zipfile.ZIP_LZMA)))
    files.append(("overlapping_entries", _overlapping(good)))
    # --- compressed bombs: 32 MB of zeros in ~32 KB
    bomb = npy_header((8 * 2**20,), data=bytes(32 * 2**20))
    files.append(("zip_bomb", zip_bytes(
        [(n, d) for n, d in good if n != "weights/00000.npy"] + [("weights/00000.npy", bomb)],
        zipfile.ZIP_DEFLATED)))
    files.append(("zip_bomb_lying_sizes", _patch_sizes(zip_bytes(
        [("__npgrad__.npy", bomb)], zipfile.ZIP_DEFLATED), 200)))
    # --- .npy headers
    for name, entry in [
        ("huge_shape", npy_header((2**40,), data=bytes(16))),
        ("wrapping_shape", npy_header((2**32, 2**32), descr="|u1")),
        ("negative_shape", npy_header((-1,), data=bytes(16))),
        ("object_pickle", npy(np.array([_Payload()], dtype=object))),
        ("structured_dtype", npy(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))),
        ("text_dtype", npy(np.array(["abc"]))),
        ("bad_magic", b"\x93NUMPY\x09\x00" + bytes(64)),
        ("bad_header_literal", b"\x93NUMPY\x01\x00\x20\x00{'descr': __import__('os')}   \n"),
    ]:
        files.append((f"npy_{name}", zip_bytes(
            [(n, d) for n, d in good if n != "weights/00000.npy"]
            + [("weights/00000.npy", entry)])))
    # --- configs
    meta_case("deep_json", lambda m: m["model"]["config"].update(deep=json.loads(
        "[" * 150 + "]" * 150)))
    files.append(("deeper_than_the_parser", zip_bytes(
        [(n, d) for n, d in good if n != "config.json.npy"]
        + [("config.json.npy", npy(np.frombuffer(
            b'{"kind": "model", "weights": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            np.uint8)))])))
    nested = json.loads(arrays["config.json"].tobytes())
    nested["model"] = "NESTED"
    text = json.dumps(nested).replace('"NESTED"', _nested_model_json(600)).encode()
    files.append((CONFIG_ONLY + "functional_600_deep", zip_bytes(
        [(n, d) for n, d in good if n != "config.json.npy"]
        + [("config.json.npy", npy(np.frombuffer(text, np.uint8)))])))
    meta_case("model_empty_config", lambda m: m.update(model={"class_name": "Model",
                                                              "config": {}}))
    meta_case("dense_6000", lambda m: (m.update(build_input_shape=[None, 6000]), m["model"][
        "config"].update(layers=[_dense_layer_config(6000, 6000)])))
    meta_case("huge_input_shape", lambda m: (m.update(build_input_shape=[None, 10**5, 10**5]),
                                             m["model"]["config"]["layers"][0]["config"].update(
                                                 batch_input_shape=[None, 10**5, 10**5])))
    meta_case("many_layers", lambda m: m["model"]["config"]["layers"].extend(
        [{"class_name": "Dropout", "config": {"rate": 0.1}}] * 3000))
    meta_case("compile_not_a_dict", lambda m: m.update(compile=[1, 2]))
    meta_case("compile_unknown_loss", lambda m: m["compile"].update(loss="no_such_loss"))
    meta_case("weights_not_a_list", lambda m: m.update(weights="all"))
    meta_case("kind_missing", lambda m: m.pop("kind"))
    for index, call in enumerate(hostile_calls(sentinel)):
        meta_case(f"model_class_{index}", lambda m, c=call: m.update(
            model={"class_name": c, "config": {}} if isinstance(c, str) else c))
        meta_case(f"layer_class_{index}", lambda m, c=call: m["model"]["config"].update(
            layers=[{"class_name": c, "config": {}} if isinstance(c, str) else c]))
        meta_case(f"activation_{index}", lambda m, c=call: m["model"]["config"]["layers"][0][
            "config"].update(activation=c))
        meta_case(f"initializer_{index}", lambda m, c=call: m["model"]["config"]["layers"][0][
            "config"].update(kernel_initializer=c))
        meta_case(f"compile_{index}", lambda m, c=call: m["compile"].update(
            optimizer=c, loss=c, metrics=[c]))
    # --- optimizer state
    for name, key, value in [
        ("optimizer_bad_key", "optimizer/slots/x/../../m", np.ones(2)),
        (CONFIG_ONLY + "optimizer_shape", "optimizer/slots/0/m", np.ones((7, 7), np.float32)),
        (CONFIG_ONLY + "optimizer_unknown", "optimizer/unknown_slot", np.ones(2)),
        ("optimizer_object", "optimizer/iterations", np.array([_Payload()], dtype=object)),
    ]:
        files.append((name, zip_bytes([(n, d) for n, d in good if n != key + ".npy"]
                                      + [(key + ".npy", npy(value))])))
    # --- not archives at all
    import pickle

    files.append(("pickle", pickle.dumps(_Payload())))
    files.append(("single_npy", npy(np.ones(3))))
    files.append(("empty", b""))
    whole = zip_bytes(good)
    files.append(("truncated_half", whole[: len(whole) // 2]))
    return files


def crafted_idx_files():
    """(name, bytes) of hostile IDX files (raw and gzip), each of which must be refused."""
    zeros = bytes(32 * 2**20)
    return [
        ("wrapping_dims", bytes([0, 0, 8, 4]) + struct.pack(">4I", *(2**16,) * 4)),
        ("huge_raw", bytes([0, 0, 8, 1]) + struct.pack(">I", 2**31) + bytes(10)),
        ("gzip_bomb", gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", len(zeros))
                                    + zeros, mtime=0)),
        ("gzip_small_header_huge_payload",
         gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + zeros, mtime=0)),
        ("gzip_truncated", gzip.compress(idx_bytes(np.ones((100, 28, 28), np.uint8)))[:-40]),
        ("gzip_bad_crc", _flip_crc(gzip.compress(idx_bytes(np.ones(50, np.uint8)), mtime=0))),
        ("gzip_garbage", b"\x1f\x8b" + bytes(range(200))),
        ("many_dims", bytes([0, 0, 8, 255]) + struct.pack(">255I", *(2,) * 255)),
        ("bad_code", bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7])),
        ("html", b"<!DOCTYPE html><html>Not Found</html>"),
    ]


def _flip_crc(data):
    data = bytearray(data)
    data[-8] ^= 0xFF
    return bytes(data)


def crafted_npz_files():
    """(name, bytes) of hostile Keras-style mnist.npz files, each of which must be refused."""
    good = mnist_npz_bytes()
    x = np.zeros((4, 28, 28), np.uint8)
    y = np.zeros(4, np.uint8)
    rest = [("y_train.npy", npy(y)), ("x_test.npy", npy(x)), ("y_test.npy", npy(y))]
    bomb = npy_header((2**16, 28, 28), descr="|u1", data=bytes(2**16 * 28 * 28))
    return [
        ("truncated", good[: len(good) // 2]),
        ("huge_shape", zip_bytes([("x_train.npy", npy_header((2**40, 28, 28), "|u1"))] + rest)),
        ("object_pickle", zip_bytes([("x_train.npy", npy(np.array([_Payload()], object)))]
                                    + rest)),
        ("bomb", zip_bytes([("x_train.npy", bomb)] + rest, zipfile.ZIP_DEFLATED)),
        ("traversal", zip_bytes([("../x_train.npy", npy(x))] + rest)),
        ("non_npy", zip_bytes([("x_train", npy(x))] + rest)),
        ("wrong_dtype", zip_bytes([("x_train.npy", npy(x.astype(np.float64)))] + rest)),
    ]


def random_mutations(data, rng, count):
    """``count`` truncated and bit-flipped copies of ``data`` (seeded)."""
    out = []
    for i in range(count):
        mutated = bytearray(data)
        if i % 3 != 1:
            for position in rng.integers(0, len(mutated), size=int(rng.integers(1, 6))):
                mutated[position] ^= int(rng.integers(1, 256))
        if i % 3 != 0:
            mutated = mutated[: int(rng.integers(0, len(mutated)))]
        out.append(bytes(mutated))
    return out


def corpus(folder, sentinel, mutations=20):
    """Write the whole corpus under ``folder``: a list of (loader, path)."""
    folder = Path(folder)
    cases = []
    rng = np.random.default_rng(1234)
    groups = [
        ("load_model", crafted_model_files(sentinel), model_bytes(), ".npgrad"),
        ("read_idx", crafted_idx_files(), idx_bytes(np.ones((20, 28, 28), np.uint8), True),
         ".gz"),
        ("mnist_npz", crafted_npz_files(), mnist_npz_bytes(), ".npz"),
    ]
    for loader, crafted, valid, suffix in groups:
        named = list(crafted) + [(f"random_{i}", data) for i, data in
                                 enumerate(random_mutations(valid, rng, mutations))]
        named.append(("random_bytes", rng.bytes(3000)))
        for name, data in named:
            path = folder / f"{loader}-{re.sub('[^A-Za-z0-9_]', '_', name)}{suffix}"
            path.write_bytes(data)
            cases.append((loader, path))
            if loader == "load_model" and not name.startswith(CONFIG_ONLY):
                cases.append(("load_weights", path))
    return cases


# ----------------------------------------------------------------------------- worker
_FORBIDDEN_EVENTS = ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn",
                     "os.fork", "os.forkpty", "pickle.find_class", "ctypes.dlopen", "os.remove",
                     "os.rename", "os.unlink", "os.rmdir", "shutil.rmtree", "os.mkdir")


def _audit(events):
    def hook(event, args):
        if not events.get("armed"):
            return
        if event in _FORBIDDEN_EVENTS:
            events["seen"].append(event)
        elif event == "open" and len(args) >= 3:
            mode, flags = args[1], args[2]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writing:
                events["seen"].append(f"open for writing: {args[0]}")
        elif event == "import" and args and str(args[0]).startswith(SENTINEL_MODULE):
            events["seen"].append(f"import {args[0]}")
    return hook


def _address_space():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def main(folder, headroom_mb):
    """Load every corpus file under an address-space limit; print one JSON line per file."""
    import resource
    import tracemalloc

    sentinel = str(Path(folder) / "SENTINEL")
    os.environ["NPGRAD_SENTINEL"] = sentinel
    mnist.SPEC = SMALL_MNIST_SPEC
    cases = corpus(folder, sentinel)
    for loader in ("load_model", "read_idx", "mnist_npz"):  # warm up every code path
        valid = {"load_model": (model_bytes(), ".npgrad"),
                 "read_idx": (idx_bytes(np.ones((2, 28, 28), np.uint8), True), ".gz"),
                 "mnist_npz": (mnist_npz_bytes(), ".npz")}[loader]
        path = Path(folder) / f"warmup{valid[1]}"
        path.write_bytes(valid[0])
        LOADERS[loader](path)
        path.unlink()
    weights_model = small_model()
    import_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # imports, warm-up
    limit = _address_space() + headroom_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    events = {"armed": False, "seen": []}
    sys.addaudithook(_audit(events))
    tracemalloc.start()
    for loader, path in cases:
        before = sorted(os.listdir(folder))
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        events["armed"], events["seen"] = True, []
        try:
            if loader == "load_weights":
                saving.load_weights(weights_model, path)
            else:
                LOADERS[loader](path)
            outcome, message = "loaded", ""
        except UnreadableFileError as error:
            outcome, message = "UnreadableFileError", str(error)
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcome, message = type(error).__name__, str(error)
        events["armed"] = False
        peak = tracemalloc.get_traced_memory()[1] - base
        print(json.dumps({"loader": loader, "file": path.name, "size": path.stat().st_size,
                          "outcome": outcome, "message": message[:300], "peak": peak,
                          "events": events["seen"],
                          "new_files": sorted(set(os.listdir(folder)) - set(before)),
                          "sentinel": os.path.exists(sentinel)}), flush=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"done": len(cases), "maxrss": usage.ru_maxrss * 1024,
                      "import_peak": import_peak, "limit": limit}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 160))
