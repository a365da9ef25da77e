"""Downloading from mirrors: a local http.server on 127.0.0.1 stands in for the internet."""

import gzip
import http.server
import threading

import numpy as np
import pytest

from npgrad.datasets import ChecksumError, CorruptFileError, DatasetNotFoundError, cache_dir, mnist, write_idx


class _Server:
    """Serves ``files`` (URL path -> bytes) and records every requested path."""

    def __init__(self):
        self.files = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def publish(self, folder, arrays, tmp_path, compress=True):
        """Put ``arrays`` under ``/<folder>/<name>[.gz]`` as IDX files."""
        for name, array in arrays.items():
            remote = name + ".gz" if compress else name
            local = write_idx(tmp_path / "srv" / folder / remote, array)
            self.files[f"/{folder}/{remote}"] = local.read_bytes()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = _Server()
    yield srv
    srv.close()


def _cache_listing():
    folder = cache_dir("mnist")
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _assert_loaded(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, name in zip((x_train, y_train, x_test, y_test), arrays):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])


def test_downloads_into_cache_verifies_and_does_not_download_twice(server, small_mnist, tmp_path):
    server.publish("mnist", small_mnist, tmp_path)
    _assert_loaded(mnist.load_data(mirrors=[server.url + "mnist/"]), small_mnist)
    assert len(server.requests) == 4
    assert _cache_listing() == sorted(name + ".gz" for name in small_mnist)

    _assert_loaded(mnist.load_data(mirrors=[server.url + "mnist/"]), small_mnist)
    assert len(server.requests) == 4  # second call served from the cache


def test_mirror_from_environment_variable(server, small_mnist, tmp_path, monkeypatch):
    server.publish("m", small_mnist, tmp_path)
    monkeypatch.setenv("NPGRAD_MNIST_MIRROR", "http://127.0.0.1:9/dead, " + server.url + "m")
    _assert_loaded(mnist.load_data(), small_mnist)


def test_falls_back_to_next_mirror_and_to_uncompressed_files(server, small_mnist, tmp_path):
    server.publish("raw", small_mnist, tmp_path, compress=False)
    mirrors = ["http://127.0.0.1:9/", server.url + "empty/", server.url + "raw/"]
    _assert_loaded(mnist.load_data(mirrors=mirrors), small_mnist)
    name = "train-images-idx3-ubyte"
    assert f"/empty/{name}.gz" in server.requests and f"/empty/{name}" in server.requests
    assert _cache_listing() == sorted(small_mnist)  # stored as served, uncompressed


def test_corrupted_download_is_a_checksum_error_and_leaves_nothing(server, small_mnist, tmp_path):
    other = {name: array.copy() for name, array in small_mnist.items()}
    other["t10k-images-idx3-ubyte"][0, 0, 0] ^= 1  # valid IDX, wrong content
    server.publish("bad", other, tmp_path)
    with pytest.raises(ChecksumError) as info:
        mnist.load_data(mirrors=[server.url + "bad/"])
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and "checksum mismatch" in message
    assert server.url + "bad/t10k-images-idx3-ubyte.gz" in message
    # Files loaded before it were kept; the bad one and every temporary file are gone.
    assert _cache_listing() == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_truncated_download_is_rejected_and_next_mirror_used(server, small_mnist, tmp_path):
    server.publish("good", small_mnist, tmp_path)
    for name in small_mnist:
        good = server.files[f"/good/{name}.gz"]
        server.files[f"/cut/{name}.gz"] = good[: len(good) // 2]
    _assert_loaded(mnist.load_data(mirrors=[server.url + "cut/", server.url + "good/"]), small_mnist)
    assert _cache_listing() == sorted(name + ".gz" for name in small_mnist)


def test_html_error_page_is_rejected(server, small_mnist, tmp_path):
    for name in small_mnist:
        server.files[f"/html/{name}.gz"] = b"<html>Access denied</html>"
    with pytest.raises(DatasetNotFoundError, match="wrong magic number") as info:
        mnist.load_data(mirrors=[server.url + "html/"])
    assert str(cache_dir("mnist")) in str(info.value)
    assert _cache_listing() == []


def test_not_found_error_says_where_it_looked_and_what_to_do(small_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("NPGRAD_DATA", str(tmp_path / "data"))
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data(path=tmp_path, mirrors=["http://127.0.0.1:9/x/"])
    message = str(info.value)
    assert isinstance(info.value, OSError)
    for expected in (
        str(tmp_path / "train-images-idx3-ubyte.gz"),
        str(tmp_path / "data" / "mnist" / "train-images-idx3-ubyte"),
        str(cache_dir("mnist")),
        "NPGRAD_DATA=/folder/with/idx/files",
        "path=",
        "t10k-labels-idx1-ubyte",
        "http://127.0.0.1:9/x/",
    ):
        assert expected in message, expected


def test_offline_mode_never_downloads(server, small_mnist, tmp_path, monkeypatch):
    server.publish("mnist", small_mnist, tmp_path)
    monkeypatch.setenv("NPGRAD_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match="NPGRAD_OFFLINE"):
        mnist.load_data(mirrors=[server.url + "mnist/"])
    assert server.requests == []


def test_corrupted_cached_file_is_an_error_naming_it(server, small_mnist, tmp_path):
    server.publish("mnist", small_mnist, tmp_path)
    mnist.load_data(mirrors=[server.url + "mnist/"])
    cached = cache_dir("mnist") / "train-labels-idx1-ubyte.gz"
    labels = small_mnist["train-labels-idx1-ubyte"].copy()
    labels[1] = (labels[1] + 1) % 10
    write_idx(cached, labels)
    with pytest.raises(ChecksumError) as info:
        mnist.load_data(mirrors=[server.url + "mnist/"], verify=False)  # cache always verified
    assert str(cached) in str(info.value) and "Delete it" in str(info.value)
    cached.write_bytes(gzip.compress(b"\0\0\x08\x01\0\0\0\x06abc"))
    with pytest.raises(CorruptFileError, match="truncated"):
        mnist.load_data(mirrors=[server.url + "mnist/"])


def test_an_endless_download_is_cut_off_and_the_next_mirror_used(server, small_mnist, tmp_path):
    server.publish("good", small_mnist, tmp_path)
    for name in small_mnist:  # far more than a 6 x 28 x 28 file can hold
        server.files[f"/huge/{name}.gz"] = bytes(4 * 2**20)
    with pytest.raises(DatasetNotFoundError, match="sent more than .* bytes"):
        mnist.load_data(mirrors=[server.url + "huge/"])
    assert _cache_listing() == []  # no partial download, no temp file
    _assert_loaded(mnist.load_data(mirrors=[server.url + "huge/", server.url + "good/"]),
                   small_mnist)
    assert _cache_listing() == sorted(name + ".gz" for name in small_mnist)
