import gzip
import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import SHARED_MNIST, tiny_arrays

from digits import DigitsError
from digits.make import data, idx


def idx_bytes(array, code=0x08, dtype=">u1"):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.asarray(array, dtype=dtype).tobytes()


# ------------------------------------------------------------------------- IDX reader


def test_parse_idx_reads_a_handmade_image_file():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    parsed = idx.parse_idx(idx_bytes(images))
    assert parsed.dtype == np.uint8 and parsed.shape == (2, 3, 4)
    np.testing.assert_array_equal(parsed, images)


def test_parse_idx_reads_big_endian_int32_as_native():
    values = np.array([1, -2, 70000], dtype=np.int32)
    parsed = idx.parse_idx(idx_bytes(values, code=0x0C, dtype=">i4"))
    assert parsed.dtype == np.dtype("int32") and parsed.dtype.isnative
    np.testing.assert_array_equal(parsed, values)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "bad magic"),
        (b"\x01\x00\x08\x01" + b"\x00" * 8, "bad magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown type code"),
        (b"\x00\x00\x08\x00", "no dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
        (idx_bytes(np.zeros((2, 2), np.uint8))[:-1], "truncated"),
        (idx_bytes(np.zeros((2, 2), np.uint8)) + b"\x00", "trailing bytes"),
    ],
)
def test_parse_idx_rejects_malformed_files(raw, message):
    with pytest.raises(DigitsError, match=message):
        idx.parse_idx(raw)


def test_read_idx_unpacks_gzip(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(idx.read_idx(path), labels)


def test_read_idx_dir_names_the_missing_file(tmp_path):
    with pytest.raises(DigitsError, match="missing train-images-idx3-ubyte"):
        idx.read_idx_dir(tmp_path)


def test_import_idx_refuses_data_that_is_not_mnist_and_writes_nothing(tmp_path, cli):
    tiny = tiny_arrays()
    for key, stem in idx.IDX_FILES.items():
        (tmp_path / stem).write_bytes(idx_bytes(tiny[key]))
    out = tmp_path / "out" / "mnist.npz"
    status, _, err = cli(idx.main, str(tmp_path), "--output", str(out))
    assert status == 2
    assert err.count("\n") == 1 and "expected uint8 (60000, 28, 28)" in err
    assert not out.exists()


@pytest.mark.skipif(
    not SHARED_MNIST.is_dir(), reason="the original IDX files are not beside the checkout"
)
def test_import_idx_rebuilds_the_shipped_arrays_from_the_original_files(tmp_path, cli, mnist):
    out = tmp_path / "mnist.npz"
    status, stdout, _ = cli(idx.main, str(SHARED_MNIST), "--output", str(out))
    assert status == 0 and data.MNIST_SHA256 in stdout
    rebuilt = data.load_mnist(out)
    for key in data.SHAPES:
        np.testing.assert_array_equal(rebuilt[key], mnist[key])


# ------------------------------------------------------------------- data/mnist.npz


def test_shipped_file_is_the_genuine_mnist(mnist):
    # Label counts published with the dataset (see data/README.md).
    assert np.bincount(mnist["y_train"]).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert np.bincount(mnist["y_test"]).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert data.array_checksum(mnist) == data.MNIST_SHA256


def test_checksum_rejects_a_single_changed_pixel(mnist):
    altered = dict(mnist, x_test=mnist["x_test"].copy())
    altered["x_test"][1234, 14, 14] ^= 1
    with pytest.raises(DigitsError, match="checksum mismatch"):
        data.check_mnist(altered, "copy")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("y_test"), "missing arrays y_test"),
        (lambda a: a.update(x_train=a["x_train"].astype(np.float32)), "x_train is float32"),
        (lambda a: a.update(y_train=a["y_train"][:-1]), r"expected uint8 \(60000,\)"),
        (lambda a: a.update(y_test=np.full(10000, 10, np.uint8)), "labels outside 0..9"),
    ],
)
def test_check_mnist_names_what_is_wrong(mnist, change, message):
    arrays = dict(mnist)
    change(arrays)
    with pytest.raises(DigitsError, match=message):
        data.check_mnist(arrays, "copy")


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(data.DEFAULT_PATH.read_bytes()[:1_000_000])
    with pytest.raises(DigitsError, match="corrupt or truncated"):
        data.load_mnist(path)


def test_flipped_byte_inside_the_file_is_caught(tmp_path):
    raw = bytearray(data.DEFAULT_PATH.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path = tmp_path / "mnist.npz"
    path.write_bytes(bytes(raw))
    with pytest.raises(DigitsError):
        data.load_mnist(path)


def test_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DigitsError, match="corrupt"):
        data.load_mnist(path)


def test_missing_file_falls_back_to_keras_download(tmp_path, mnist, monkeypatch):
    monkeypatch.setattr(data, "DEFAULT_PATH", tmp_path / "absent.npz")  # the repository's copy
    arrays = data.load_mnist(tmp_path / "absent.npz", download=lambda: dict(mnist))
    assert data.array_checksum(arrays) == data.MNIST_SHA256


def test_a_data_file_that_is_not_there_is_an_error_not_a_download(tmp_path):
    def download():
        raise AssertionError("a typo must not start a download")

    with pytest.raises(DigitsError, match="typo.npz: no such file"):
        data.load_mnist(tmp_path / "typo.npz", download=download)


def test_an_npz_whose_header_claims_a_huge_array_is_refused_unread(tmp_path):
    """A header that says (1000000, 1000000) would make numpy allocate a terabyte."""
    import zipfile

    path = tmp_path / "huge.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (1000000, 1000000)}
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 64)
    with pytest.raises(DigitsError, match=r"x_train is uint8 \(1000000, 1000000\), expected uint8"):
        data.load_mnist(path)


def test_missing_file_without_internet_says_both_ways_to_get_it(tmp_path, monkeypatch):
    def offline():
        raise OSError("no route to host")

    monkeypatch.setattr(data, "DEFAULT_PATH", tmp_path / "absent.npz")
    with pytest.raises(DigitsError) as err:
        data.load_mnist(tmp_path / "absent.npz", download=offline)
    message = str(err.value)
    assert "absent.npz is missing" in message
    assert "git checkout" in message and "python -m digits.make.idx DIR" in message


# ------------------------------------------------------------------------ for training


def test_validation_split_is_fixed_disjoint_and_complete():
    x = np.arange(100)
    y = x % 10
    (x_fit, y_fit), (x_val, y_val) = data.split_validation(x, y, size=20)
    (x_fit2, _), (x_val2, _) = data.split_validation(x, y, size=20)
    assert len(x_val) == 20 and len(x_fit) == 80
    assert set(x_fit).isdisjoint(x_val) and set(x_fit) | set(x_val) == set(x)
    np.testing.assert_array_equal(y_val, x_val % 10)
    np.testing.assert_array_equal(x_val, x_val2)
    np.testing.assert_array_equal(x_fit, x_fit2)
    assert not np.array_equal(x_val, np.arange(20)), "the hold-out should be a random sample"


def test_validation_split_rejects_impossible_sizes():
    with pytest.raises(DigitsError, match="validation-size below 10"):
        data.split_validation(np.arange(10), np.arange(10), size=10)


# ------------------------------------------------------------------ property-based


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_idx_reader_on_any_bytes_gives_an_array_or_its_own_error(raw):
    try:
        result = idx.parse_idx(raw)
    except DigitsError:
        return
    assert isinstance(result, np.ndarray) and result.dtype.isnative

@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(idx.IDX_DTYPES)),
    st.lists(st.integers(0, 4), min_size=1, max_size=3),
    st.data(),
)
def test_idx_reader_reads_back_any_well_formed_file(code, shape, draw):
    dtype = idx.IDX_DTYPES[code]
    count = int(np.prod(shape))
    size = count * dtype.itemsize
    values = np.frombuffer(draw.draw(st.binary(min_size=size, max_size=size)), dtype=dtype)
    raw = (
        bytes([0, 0, code, len(shape)]) + np.array(shape, dtype=">u4").tobytes() + values.tobytes()
    )
    parsed = idx.parse_idx(raw)
    assert parsed.shape == tuple(shape) and parsed.dtype.isnative
    assert parsed.astype(dtype).tobytes() == values.tobytes()
