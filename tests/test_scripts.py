"""Every script as a user runs it, against every input a user can get wrong: one clear
line on stderr, exit status 2, and nothing left behind.

Each table case builds its bad input in a temporary folder and points all outputs there
too; afterwards that folder must hold only what the case put in it, and the repository's
own models/, figures/ and data/ must be untouched. The light install (requirements-
infer.txt alone) answers the full install's scripts in one line too.
"""

import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import ROOT

from digits.backend import keras
from digits.cli import evaluate, export, train, visualize
from digits.make import data
from digits.provenance import read_record


def assert_one_line_error(status, err, *fragments):
    assert status == 2
    assert err.count("\n") == 1, f"expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


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
    "epochs not a number": (train, ["--epochs", "two"], "not a whole number"),
    "zero learning rate": (train, ["--learning-rate", "0"], "must be a positive number"),
    "zero batch size": (train, ["--batch-size", "0"], "must be at least 1"),
    "unknown model": (train, ["--model", "vgg"], "invalid choice: 'vgg' \\(choose from 'mlp', 'cnn'"),
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


def test_train_output_not_a_model_file(cli, tmp_path):
    status, _, err = cli(train.main, "--output", str(tmp_path / "mlp.txt"))
    assert_one_line_error(status, err, "must end in .keras or .h5")
    assert list(tmp_path.iterdir()) == []


def test_train_output_under_a_file(cli, tmp_path):
    (tmp_path / "file").write_text("")
    status, _, err = cli(train.main, "--output", str(tmp_path / "file" / "m.keras"))
    assert_one_line_error(status, err, "is a file, not a directory")

@pytest.mark.parametrize("script", [evaluate, visualize])
def test_missing_model(cli, script, tmp_path):
    status, _, err = cli(script.main, "--model", str(tmp_path / "nope.keras"))
    assert_one_line_error(status, err, "no model at", "python train.py")

def test_a_real_process_prints_one_line_and_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "evaluate.py", "--model", str(tmp_path / "missing.keras")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert_one_line_error(result.returncode, result.stderr, "error: no model at")


def test_a_data_file_that_is_not_there_is_named_not_downloaded(tmp_path, cli):
    status, _, err = cli(train.main, "--data", str(tmp_path / "typo.npz"), "--output", str(tmp_path / "m.keras"))
    assert status == 2 and "typo.npz: no such file" in err

def test_export_refuses_a_model_that_is_not_one_of_ours(tmp_path, cli):
    path = tmp_path / "three.keras"
    keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(3)]).save(path)
    status, _, err = cli(export.main, "--model", str(path))
    assert status == 2 and "nothing was exported" in err
    assert not (tmp_path / "three.onnx").exists()

@pytest.mark.slow
def test_a_quick_smoke_run_with_a_small_limit_holds_out_a_tenth(tmp_path, cli):
    output = tmp_path / "m.keras"
    status, out, err = cli(train.main, "--model", "cnn", "--limit", "1200", "--output", str(output))
    assert status == 0, err
    assert read_record(output)["config"]["validation_images"] == 120


# ------------------------------------------------------------ the light install


WITHOUT = """
import runpy, sys

MISSING = sys.argv[1].split(",")

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in MISSING:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Missing())
if sys.argv[2] == "-m":
    sys.argv = sys.argv[3:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""
LIGHT = "tensorflow,keras,h5py,matplotlib,tf2onnx,onnx,ai_edge_litert"


def run_without(missing, *argv):
    return subprocess.run(
        [sys.executable, "-c", WITHOUT, missing, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

@pytest.mark.parametrize(
    "argv",
    [
        ["train.py", "--limit", "100", "--output", "never-written.keras"],
        ["evaluate.py", "--model", "models/cnn.keras"],
        ["export.py", "--model", "models/cnn.keras"],
        ["visualize.py", "--model", "models/cnn.keras"],
        ["-m", "digits.cli.calibrate", "models/cnn.keras"],
    ],
)
@pytest.mark.slow
def test_the_light_install_answers_the_full_installs_scripts_in_one_line(argv):
    result = run_without(LIGHT, *argv)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "light install" in result.stderr and "pip install -r requirements.txt" in result.stderr

@pytest.mark.slow
def test_help_and_a_missing_model_are_answered_without_tensorflow():
    """train.py --help, and export.py refusing a missing file, never import TensorFlow."""
    assert run_without("tensorflow,keras", "train.py", "--help").returncode == 0
    result = run_without("tensorflow,keras", "export.py", "--model", "missing.keras")
    assert result.returncode == 2 and "no model at missing.keras" in result.stderr


FULL_DISK = """
import errno, sys
import keras
from digits.cli import train

def full(self, *args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

keras.callbacks.BackupAndRestore.on_epoch_end = full
sys.exit(train.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_full_disk_during_training_is_one_line_and_leaves_nothing_behind(tmp_path):
    """Keras's per-epoch backup cannot be written (on a small tmpfs: the same, with h5py
    crashing the interpreter as it was torn down, before)."""
    output = tmp_path / "m.keras"
    args = ["--model", "cnn", "--limit", "1000", "--output", str(output)]
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no model, progress or lock
