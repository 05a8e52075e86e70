"""Every entry point against broken and hostile inputs: one clear line, exit 2, no files.

Each case builds its bad input in a temporary folder and points all outputs there too;
afterwards that folder must hold only what the case put in it, and the repository's own
models/, figures/ and data/ must be untouched.
"""

import re
import zipfile

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from digits.cli import evaluate, train, visualize
from digits import DigitsError
from digits.make import data, idx
from digits.backend import keras

SHIPPED_MODEL = ROOT / "models" / "cnn.keras"


def snapshot(*folders):
    return {p: p.stat().st_mtime_ns for f in folders for p in f.rglob("*")}


def bad_npz(change):
    """Write a copy of MNIST (as tiny arrays where size does not matter) with one thing wrong."""

    def make(folder, mnist):
        arrays = {k: mnist[k] for k in data.SHAPES}
        change(arrays)
        path = folder / "bad.npz"
        np.savez(path, **arrays)
        return path

    return make


def flipped_byte(folder, mnist):
    raw = bytearray(data.DEFAULT_PATH.read_bytes())
    raw[len(raw) // 3] ^= 0x01
    path = folder / "flipped.npz"
    path.write_bytes(bytes(raw))
    return path


def write(name, content):
    def make(folder, mnist):
        path = folder / name
        path.write_bytes(content(folder) if callable(content) else content)
        return path

    return make


def folder_itself(folder, mnist):
    sub = folder / "a-folder.npz"
    sub.mkdir()
    return sub


def nan_images(arrays):
    arrays["x_test"] = np.full((10000, 28, 28), np.nan, dtype=np.float32)


def out_of_range_labels(arrays):
    arrays["y_train"] = arrays["y_train"].copy()
    arrays["y_train"][0] = 11


DATA_CASES = {
    "missing keys": (bad_npz(lambda a: a.pop("x_train")), "missing arrays x_train"),
    "wrong dtype with NaNs": (bad_npz(nan_images), "x_test is float32"),
    "labels out of range": (bad_npz(out_of_range_labels), "labels outside 0..9"),
    "flipped byte": (flipped_byte, "corrupt or truncated|checksum mismatch"),
    "truncated": (write("cut.npz", data.DEFAULT_PATH.read_bytes()[:5000]), "corrupt or truncated"),
    "empty file": (write("empty.npz", b""), "corrupt or truncated"),
    "text file": (write("text.npz", b"hello, not a zip"), "corrupt or truncated"),
    "directory": (folder_itself, "is a directory"),
}


def truncated_copy(source, name):
    def content(folder):
        whole = source(folder).read_bytes()
        return whole[: len(whole) // 2]

    return write(name, content)


def h5_model(folder):
    """The shipped CNN as .h5, made once per session outside the case's own folder."""
    path = folder.parent / "cnn-source.h5"
    if not path.exists():
        keras.models.load_model(SHIPPED_MODEL, compile=False).save(path)
    return path


def not_keras_zip(folder):
    zip_path = folder / "scratch.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        z.writestr("readme.txt", "a zip, but not a Keras archive")
    content = zip_path.read_bytes()
    zip_path.unlink()
    return content


def flipped_keras(folder):
    raw = bytearray(SHIPPED_MODEL.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    return bytes(raw)


MODEL_CASES = {
    "truncated .keras": (
        truncated_copy(lambda folder: SHIPPED_MODEL, "cut.keras"),
        "not a Keras model",
    ),
    "truncated .h5": (truncated_copy(h5_model, "cut.h5"), "not a readable Keras model"),
    "zip that is not a Keras archive": (
        write("other.keras", not_keras_zip),
        "not a readable Keras model",
    ),
    "empty .keras": (write("empty.keras", b""), "not a Keras model"),
    "empty .h5": (write("empty.h5", b""), "not a readable Keras model"),
    "flipped byte in .keras": (write("flipped.keras", flipped_keras), "fails its CRC check"),
    "directory": (lambda folder, mnist: folder, "is a directory"),
    "wrong suffix": (write("model.pt", b"\x80\x02"), "must end in .keras or .h5"),
}

FLAG_CASES = {
    "negative epochs": (train, ["--epochs", "-1"], "must be at least 1"),
    "zero batch size": (train, ["--batch-size", "0"], "must be at least 1"),
    "unknown model": (train, ["--model", "vgg"], "invalid choice: 'vgg'"),
    "NaN learning rate": (train, ["--learning-rate", "nan"], "nan must be a positive number"),
    "negative seed": (train, ["--seed", "-5"], "not between 0 and 4294967295"),
    "validation bigger than the data": (
        train,
        ["--limit", "100", "--validation-size", "100"],
        "validation-size below 100",
    ),
    "unknown flag": (evaluate, ["--modle", "x.keras"], "unrecognized arguments: --modle"),
    "zero count": (visualize, ["--count", "0"], "must be at least 1"),
    "zero limit": (evaluate, ["--limit", "0"], "must be at least 1"),
}


def outputs(script, folder):
    """Flags that send every output of `script` into `folder`."""
    if script is train:
        return ["--output", str(folder / "out.keras")]
    if script is evaluate:
        return ["--output", str(folder / "report.json")]
    return ["--output-dir", str(folder / "figures")]


def assert_clean_failure(cli, script, argv, fragment, folder, inputs):
    repo_before = snapshot(ROOT / "models", ROOT / "figures", ROOT / "data")
    status, _, err = cli(script.main, *argv, *outputs(script, folder))
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(fragment, err), err
    assert sorted(folder.iterdir()) == sorted(inputs), "nothing may be left behind"
    assert snapshot(ROOT / "models", ROOT / "figures", ROOT / "data") == repo_before


@pytest.mark.parametrize("script", [train, evaluate, visualize], ids=lambda s: s.__name__)
@pytest.mark.parametrize("case", DATA_CASES)
def test_bad_data_file(cli, tmp_path, mnist, script, case):
    make, fragment = DATA_CASES[case]
    path = make(tmp_path, mnist)
    model = [] if script is train else ["--model", str(SHIPPED_MODEL)]
    assert_clean_failure(cli, script, ["--data", str(path), *model], fragment, tmp_path, [path])


@pytest.mark.parametrize("script", [evaluate, visualize], ids=lambda s: s.__name__)
@pytest.mark.parametrize("case", MODEL_CASES)
def test_bad_model_file(cli, tmp_path, mnist, script, case):
    make, fragment = MODEL_CASES[case]
    path = make(tmp_path, mnist)
    inputs = [path] if path != tmp_path else []
    assert_clean_failure(cli, script, ["--model", str(path)], fragment, tmp_path, inputs)


@pytest.mark.parametrize("case", FLAG_CASES)
def test_nonsense_flags(cli, tmp_path, case):
    script, argv, fragment = FLAG_CASES[case]
    assert_clean_failure(cli, script, argv, fragment, tmp_path, [])


@pytest.mark.slow
def test_a_model_file_changed_after_training_is_evaluated_with_a_warning(cli, tmp_path):
    """A model whose file is not the one its record describes (here: a retrained model in
    place of the .h5 that train.py wrote) is still evaluated; one line says so."""
    status, _, _ = cli(
        train.main,
        "--limit",
        "1000",
        "--validation-size",
        "200",
        "--epochs",
        "1",
        "--output",
        str(tmp_path / "m.h5"),
    )
    assert status == 0
    keras.models.load_model(tmp_path / "m.h5").save(tmp_path / "m.h5")
    status, _, err = cli(
        evaluate.main, "--model", str(tmp_path / "m.h5"), "--output", str(tmp_path / "r.json")
    )
    assert status == 0 and err.count("\n") == 1
    assert "warning:" in err and "m.json describes another file than" in err
    assert (tmp_path / "r.json").exists()


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
