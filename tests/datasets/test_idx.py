"""IDX reader/writer: round trips over shapes and dtypes, and clear errors on bad files."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from npgrad.datasets import idx
from npgrad.datasets.idx import CorruptFileError, DatasetError, parse_idx, read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def _raw_idx(array, code=0x08):
    """Build IDX bytes by hand, independently of write_idx."""
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@settings(deadline=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from(DTYPES),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6),
    ),
    compress=st.booleans(),
)
def test_write_then_read_round_trips(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.shape == array.shape
    assert back.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(back, array)  # NaNs compare equal here
    assert back.flags.writeable


@settings(deadline=None)
@given(array=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)))
def test_reads_hand_built_mnist_style_bytes(array):
    data = _raw_idx(array)
    assert data[2:4] == bytes([0x08, array.ndim])
    np.testing.assert_array_equal(parse_idx(data, dtype=np.uint8), array)


def test_mnist_magic_numbers_and_big_endian_payload(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "img", images)
    write_idx(tmp_path / "lab", np.array([7, 1], dtype=np.uint8))
    assert (tmp_path / "img").read_bytes()[:16] == bytes.fromhex("00000803 00000002 00000003 00000004")
    assert (tmp_path / "lab").read_bytes()[:8] == bytes.fromhex("00000801 00000002")
    ints = np.array([1, -2], dtype=np.int32)
    write_idx(tmp_path / "ints", ints)
    assert (tmp_path / "ints").read_bytes()[4:] == bytes.fromhex("00000002 00000001 fffffffe")


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels-without-suffix"
    path.write_bytes(gzip.compress(_raw_idx(array)))
    np.testing.assert_array_equal(read_idx(path), array)


def test_expected_dtype_and_shape_pass_when_they_match(tmp_path):
    path = write_idx(tmp_path / "x.gz", np.zeros((3, 28, 28), np.uint8))
    assert read_idx(path, dtype=np.uint8, shape=(None, 28, 28)).shape == (3, 28, 28)


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(_raw_idx(np.ones((4, 28, 28), np.uint8)))
    return path


def _error_for(path, **kwargs):
    with pytest.raises(CorruptFileError) as info:
        read_idx(path, **kwargs)
    message = str(info.value)
    assert str(path) in message, message
    assert "Delete it" in message and "NPGRAD_DATA" in message, message
    assert info.value.path == path
    return message


def test_truncated_file_names_file_and_problem(good_file):
    good_file.write_bytes(good_file.read_bytes()[:-5])
    message = _error_for(good_file)
    assert "truncated" in message and "3152 bytes" in message and "has 3147" in message


def test_trailing_bytes_are_rejected(good_file):
    good_file.write_bytes(good_file.read_bytes() + b"\0")
    assert "trailing bytes" in _error_for(good_file)


def test_truncated_header(good_file):
    good_file.write_bytes(good_file.read_bytes()[:10])
    assert "truncated" in _error_for(good_file)


def test_too_short_for_magic(good_file):
    good_file.write_bytes(b"\0\0")
    assert "too short" in _error_for(good_file)


def test_wrong_magic_number(good_file):
    good_file.write_bytes(b"<!DOCTYPE html><html>Not Found</html>")
    message = _error_for(good_file)
    assert "wrong magic number 0x3C21444F" in message and "0x00000803" in message


def test_wrong_dtype_code(good_file):
    good_file.write_bytes(_raw_idx(np.ones(3, np.int32), code=0x0C))
    assert "wrong data type" in _error_for(good_file, dtype=np.uint8)


def test_wrong_number_of_dims(good_file):
    good_file.write_bytes(_raw_idx(np.ones(5, np.uint8)))
    message = _error_for(good_file, shape=(None, 28, 28))
    assert "wrong dims" in message and "1 dimensions, expected 3" in message


def test_wrong_dim_sizes(good_file):
    assert "wrong dims" in _error_for(good_file, shape=(60000, 28, 28))


def test_damaged_gzip_names_file(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(_raw_idx(np.arange(1000, dtype=np.uint32).astype(np.uint8)))[:-30])
    assert "damaged gzip" in _error_for(path)


def test_errors_are_oserror_and_valueerror(good_file):
    good_file.write_bytes(b"junk")
    with pytest.raises(OSError):
        read_idx(good_file)
    with pytest.raises(ValueError):
        read_idx(good_file)
    assert issubclass(CorruptFileError, DatasetError)


def test_write_idx_rejects_bad_arrays(tmp_path):
    with pytest.raises(TypeError, match="dtype must be one of"):
        write_idx(tmp_path / "a", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "a", np.float32(1.0))
    assert not list(tmp_path.iterdir())


def test_atomic_write_leaves_no_temp_file(tmp_path):
    target = tmp_path / "sub" / "f.idx"
    idx.atomic_write(target, b"abc")
    assert [p.name for p in target.parent.iterdir()] == ["f.idx"]
    assert target.read_bytes() == b"abc"
