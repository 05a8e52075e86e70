"""Models leaving the project: export.py, the exported files' parity, and the light path."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from digits.cli import export
from digits import DEFAULT_DETECTOR, DEFAULT_MODEL
from digits.make.export import FORMATS, TOLERANCE, export_path, predictor
from digits.provenance import export_record_path as record_path, sha256_of
from digits.make.export import export as export_model
from digits.read.inference import predict
from digits.read.models import load_model

# every export of every model, and subprocesses on the light path: minutes in all
pytestmark = pytest.mark.slow

# the digit models and the detector; the line reader takes strips (its own test below)
SHIPPED = sorted(p.name for p in (ROOT / "models").glob("*.keras") if p.stem != "reader")


@pytest.fixture(scope="module")
def keras_probabilities(mnist):
    """Each shipped model's probabilities on the 10,000 test images, computed once."""
    return {
        name: predict(load_model(ROOT / "models" / name, classes=None), mnist["x_test"])
        for name in SHIPPED
    }


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_exports_to_every_format_with_parity(
    tmp_path, mnist, keras_probabilities, name, fmt
):
    """The exported file, run by its own runtime, predicts the same digit as the Keras model
    on all 10,000 test images, every probability within 1e-4."""
    output = export_path(tmp_path / name, fmt)
    model = load_model(ROOT / "models" / name, classes=None)  # the detector has 2 outputs
    check = export_model(model, fmt, output, mnist["x_test"][:100])
    assert check["different_digits"] == 0
    exported = predictor(output, fmt)(mnist["x_test"])
    assert exported.shape == (10000, model.output_shape[-1])
    np.testing.assert_array_equal(exported.argmax(axis=1), keras_probabilities[name].argmax(axis=1))
    assert np.abs(exported - keras_probabilities[name]).max() <= TOLERANCE


def test_the_line_reader_exports_to_onnx_with_parity(tmp_path, mnist, fonts):
    from digits.make.lines import make_lines

    strips = make_lines("test", mnist, 64, processes=1, chunk=64)[0]
    model = load_model(ROOT / "models" / "reader.keras", classes=None, input_shape=None)
    output = tmp_path / "reader.onnx"
    check = export_model(model, "onnx", output, strips)
    assert check["different_digits"] == 0 and check["largest_probability_difference"] <= TOLERANCE
    assert predictor(output, "onnx")(strips).shape == (64, *model.output_shape[1:])


def test_savedmodel_has_the_serving_signature_tensorflow_serving_calls(tmp_path, mnist):
    import tensorflow as tf

    output = tmp_path / "cnn.savedmodel"
    export_model(load_model(ROOT / "models" / "cnn.keras"), "savedmodel", output, mnist["x_test"][:10])
    serving = tf.saved_model.load(str(output)).signatures["serving_default"]
    (spec,) = serving.structured_input_signature[1].values()
    assert spec.name == "image" and spec.shape.as_list() == [None, 28, 28] and spec.dtype == tf.uint8
    # what TensorFlow Serving's REST API does with {"instances": [...]}: raw pixel values
    probabilities = serving(image=tf.constant(mnist["x_test"][:5]))["probabilities"]
    assert probabilities.shape == (5, 10)
    np.testing.assert_array_equal(probabilities.numpy().argmax(axis=1), mnist["y_test"][:5])


@pytest.fixture(scope="module")
def named_exports(tmp_path_factory, mnist):
    """cnn.keras exported to ONNX and LiteRT, as export.py writes them."""
    folder = tmp_path_factory.mktemp("named")
    source = ROOT / "models" / "cnn.keras"
    model = load_model(source)
    for fmt in ("onnx", "litert"):
        export_model(model, fmt, export_path(folder / "cnn.keras", fmt), mnist["x_test"][:100], source=source)
    return folder, predict(model, mnist["x_test"]).argmax(axis=1)


def test_onnx_export_takes_uint8_image_and_gives_probabilities_by_name(named_exports, mnist):
    """What a client writes (docs/exports.md): MNIST's own uint8 images, by the names."""
    import onnxruntime

    folder, keras_digits = named_exports
    session = onnxruntime.InferenceSession(str(folder / "cnn.onnx"))
    (source,), (sink,) = session.get_inputs(), session.get_outputs()
    assert (source.name, source.type, source.shape) == ("image", "tensor(uint8)", ["batch", 28, 28])
    assert (sink.name, sink.shape) == ("probabilities", ["batch", 10])
    (probabilities,) = session.run(["probabilities"], {"image": mnist["x_test"]})
    np.testing.assert_array_equal(probabilities.argmax(axis=1), keras_digits)
    about = session.get_modelmeta().custom_metadata_map
    assert json.loads(about["labels"]) == list("0123456789")
    assert about["input"].startswith("image: uint8 (batch, 28, 28), raw pixel values 0-255")
    assert about["source"] == "cnn.keras"
    assert about["source_sha256"] == sha256_of(ROOT / "models" / "cnn.keras")


def test_litert_export_takes_uint8_image_and_gives_probabilities_by_name(named_exports, mnist):
    from ai_edge_litert.interpreter import Interpreter
    from tensorflow.lite.tools import flatbuffer_utils

    folder, keras_digits = named_exports
    interpreter = Interpreter(model_path=str(folder / "cnn.tflite"))
    assert interpreter.get_signature_list() == {"serving_default": {"inputs": ["image"], "outputs": ["probabilities"]}}
    (source,), (sink,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert (source["name"], source["dtype"], list(source["shape_signature"])) == ("image", np.uint8, [-1, 28, 28])
    assert sink["name"] == "probabilities"
    run = interpreter.get_signature_runner()
    digits = np.concatenate([run(image=mnist["x_test"][i : i + 2000])["probabilities"] for i in range(0, 10000, 2000)])
    np.testing.assert_array_equal(digits.argmax(axis=1), keras_digits)
    lite = flatbuffer_utils.read_model(str(folder / "cnn.tflite"))
    (entry,) = [m for m in lite.metadata if m.name == b"digits"]
    about = json.loads(bytes(lite.buffers[entry.buffer].data))
    assert about["labels"] == list("0123456789") and about["output"].startswith("probabilities: float32 (batch, 10)")
    assert about["source_sha256"] == sha256_of(ROOT / "models" / "cnn.keras")


def test_export_py_writes_beside_the_model_with_a_record(cli, tmp_path):
    model = tmp_path / "cnn.keras"
    model.write_bytes((ROOT / "models" / "cnn.keras").read_bytes())
    status, out, _ = cli(export.main, "--model", str(model), "--format", "litert")
    assert status == 0 and "the same digit as" in out
    written = tmp_path / "cnn.tflite"
    record = json.loads(record_path(written).read_text())
    assert record["format"] == "litert" and record["source"] == str(model)
    assert record["source_sha256"] == sha256_of(model)
    assert record["command"] == f"python export.py --model {model} --format litert"
    assert record["parity_on_test_images"]["images"] == 10000
    assert record["parity_on_test_images"]["different_digits"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.keras", "cnn.tflite", "cnn.tflite.json"]


def test_an_export_that_does_not_answer_as_keras_does_is_not_written(cli, tmp_path, monkeypatch):
    import digits.make.export

    monkeypatch.setattr(digits.make.export, "TOLERANCE", -1.0)  # no file can pass
    model = tmp_path / "cnn.keras"
    model.write_bytes((ROOT / "models" / "cnn.keras").read_bytes())
    for fmt in ("onnx", "savedmodel"):
        status, _, err = cli(export.main, "--model", str(model), "--format", fmt)
        assert status == 2 and err.count("\n") == 1 and "nothing was written" in err
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.keras"]


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--format", "tfjs"], "invalid choice: 'tfjs'"),
        (["--output", "x.onnx", "--format", "litert"], "must end in .tflite"),
        (["--model", "missing.keras"], "no model at missing.keras"),
    ],
)
def test_export_py_errors_are_one_line(cli, flags, fragment):
    status, _, err = cli(export.main, *flags)
    assert status == 2 and err.count("\n") == 1 and fragment in err


@pytest.mark.parametrize("shipped", [DEFAULT_MODEL, DEFAULT_DETECTOR])
def test_the_default_model_and_detector_ship_with_their_onnx_files(shipped):
    onnx = export_path(ROOT / shipped, "onnx")
    record = json.loads(record_path(onnx).read_text())
    assert record["source_sha256"] == sha256_of(ROOT / shipped), "exported from this very file"
    assert record["parity_on_test_images"]["different_digits"] == 0


# ------------------------------------------------------------------- the light path

NO_TENSORFLOW = """
import runpy, sys

class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf_keras", "h5py", "matplotlib"):
            raise ImportError(f"{name} is not installed here")

sys.meta_path.insert(0, NoTensorFlow())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
IMAGES = [str(ROOT / "tests" / "digit_images" / n) for n in ("3-photos-005.jpg", "9-scans-014.webp")]


def run_without_tensorflow(*argv):
    return subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_predict_runs_on_onnxruntime_where_tensorflow_cannot_be_imported():
    light = run_without_tensorflow("predict.py", "--json", *IMAGES)
    assert light.returncode == 0, light.stderr
    heavy = subprocess.run(
        [sys.executable, "predict.py", "--json", "--backend", "keras", *IMAGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert heavy.returncode == 0, heavy.stderr
    for light_row, keras_row in zip(
        map(json.loads, light.stdout.splitlines()), map(json.loads, heavy.stdout.splitlines()), strict=True
    ):
        assert light_row["digit"] == keras_row["digit"]
        np.testing.assert_allclose(light_row["probabilities"], keras_row["probabilities"], atol=1e-4)


def test_asking_for_keras_where_it_is_missing_is_one_line():
    result = run_without_tensorflow("predict.py", "--backend", "keras", IMAGES[0])
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "needs Keras and TensorFlow" in result.stderr and "requirements.txt" in result.stderr


def test_the_page_answers_on_onnxruntime_where_tensorflow_cannot_be_imported(tmp_path):
    script = tmp_path / "page.py"
    script.write_text(
        "import io, json, sys\n"
        "from PIL import Image, ImageDraw\n"
        "from digits.read.reading import open_reader\n"
        "from digits.read.web import create_app\n"
        "image = Image.new('L', (280, 280), 255)\n"
        "ImageDraw.Draw(image).line([(60, 60), (220, 60), (130, 240)], fill=0, width=18)\n"
        "body = io.BytesIO(); image.save(body, 'PNG')\n"
        "app = create_app(open_reader('models/accurate.keras', 'models/reader.keras', None))\n"
        "answer = app.test_client().post('/predict', data=body.getvalue(), content_type='image/png')\n"
        "print(json.dumps({'status': answer.status_code, 'digit': answer.get_json()['digit'],\n"
        "                  'tensorflow': 'tensorflow' in sys.modules}))\n"
    )
    result = run_without_tensorflow(str(script))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": 200, "digit": 7, "tensorflow": False}


def test_a_stale_onnx_file_is_not_used(tmp_path):
    """auto takes the .onnx file only when it was exported from the very model file."""
    from digits.read.onnx_model import OnnxModel
    from digits.read.models import open_model

    for suffix in (".keras", ".onnx", ".onnx.json"):
        source = ROOT / "models" / f"accurate{suffix}"
        (tmp_path / f"m{suffix}").write_bytes(source.read_bytes())
    assert isinstance(open_model(tmp_path / "m.keras"), OnnxModel)
    (tmp_path / "m.keras").write_bytes((ROOT / "models" / "cnn.keras").read_bytes())
    assert not isinstance(open_model(tmp_path / "m.keras"), OnnxModel)
    assert isinstance(open_model(tmp_path / "m.keras", "onnx"), OnnxModel)
