"""Opening a model safely: a Keras file (.keras, .h5) or its exported ONNX file.

Loading refuses what is not a whole, plain model of the shape asked for (truncated,
corrupt, foreign, or carrying Python code) with one clear DigitsError. A record whose
checksum is not the file's describes another file: that is a warning (RecordMismatch),
and the model loads. Keras is imported only when a Keras file is opened, so the light
install (onnxruntime, no TensorFlow) reads pictures with this module too.
"""

import importlib.util
import warnings
import zipfile
from pathlib import Path

from digits import NUM_CLASSES, DigitsError
from digits.provenance import RecordMismatch, export_record_path, read_record, record_path, sha256_of
from digits.read.onnx_model import OnnxModel
from digits.read.shapes import INPUT_SHAPE, fits, output_shape

MODEL_SUFFIXES = (".keras", ".h5")
BACKENDS = ("auto", "onnx", "keras")


# What a missing model's error suggests; the line reader's and the detector's name their own
# command and flag (digits.read.reading).
TRAIN_HINT = "train one with 'python train.py', or pass --model PATH"


def load_model(path, classes=NUM_CLASSES, input_shape=INPUT_SHAPE, hint=TRAIN_HINT):
    """Load a .keras or .h5 model in Keras's safe mode and check that it fits MNIST: the raw
    28x28 image in (or `input_shape`), `classes` probabilities out (any number if None; a
    tuple is the whole output shape, as the line reader's frames).

    Safe mode refuses archives that carry code (Lambda layers). The model is loaded
    uncompiled: using it needs no optimizer.
    """
    path = Path(path)
    if not path.exists():
        raise DigitsError(f"no model at {path}; {hint}")
    if path.is_dir():
        raise DigitsError(f"{path} is a directory, not a model file; {hint}")
    if path.suffix not in MODEL_SUFFIXES:
        raise DigitsError(f"{path}: a model file must end in .keras or .h5")
    if path.suffix == ".keras":
        check_archive(path)
    from digits.backend import keras  # deferred until the path is known to be worth trying

    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # Keras raises many types for a bad file; all mean the same here
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "arbitrary code execution" in reason or "safe_mode" in reason:
            raise DigitsError(
                f"{path} was refused: it carries Python code (such as a Lambda layer), which "
                f"Keras's safe mode does not run; use a model built from standard layers"
            ) from None
        raise DigitsError(f"{path} is not a readable Keras model: {reason[:200]}") from None
    takes, gives = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
    if not fits(takes, gives, input_shape, classes):
        raise DigitsError(
            f"{path} takes {takes} and gives {gives}; an MNIST model here must "
            f"take the raw {input_shape} image and give {output_shape(classes)}"
        )
    expected = (read_record(path) or {}).get("files", {}).get(path.name)
    if expected is not None and sha256_of(path) != expected:
        warnings.warn(
            RecordMismatch(
                f"{record_path(path)} describes another file than {path} (the checksums "
                f"differ), so its figures may not be this model's"
            ),
            stacklevel=2,
        )
    return model


def check_archive(path):
    """A .keras file is a zip archive; check that it is whole, every byte (CRC-32)."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise DigitsError(
            f"{path} is not a Keras model (not a .keras archive, maybe truncated)"
        ) from None
    if bad is not None:
        raise DigitsError(f"{path} is corrupt: {bad} inside it fails its CRC check")


def open_model(path, backend="auto", classes=NUM_CLASSES, input_shape=INPUT_SHAPE, hint=TRAIN_HINT):
    """The model at `path`, ready to answer images (digits.read.inference takes either kind).

    backend "keras" loads the Keras file (load_model); "onnx" runs its exported ONNX file
    (models/NAME.onnx beside models/NAME.keras, or an .onnx path itself) with onnxruntime,
    which never imports TensorFlow; "auto" takes the ONNX file when it is there, made from
    this very model file (its record's checksum says so), and onnxruntime is installed.
    """
    path = Path(path)
    onnx = path if path.suffix == ".onnx" else path.with_suffix(".onnx")
    if path.suffix == ".onnx" and backend == "keras":
        raise DigitsError(f"{path} is an ONNX file; --backend keras needs a .keras or .h5 model")
    if backend == "auto":
        backend = "onnx" if path.suffix == ".onnx" or _current_export(path, onnx) else "keras"
    if backend == "onnx":
        return OnnxModel(onnx, classes=classes, input_shape=input_shape)
    try:
        return load_model(path, classes, input_shape, hint)
    except ImportError as err:  # a light install (requirements-infer.txt) has no Keras
        raise DigitsError(
            f"{path} needs Keras and TensorFlow ({err}): pip install -r requirements.txt, "
            f"or export it to ONNX and use --backend onnx"
        ) from None


def _current_export(model_path, onnx):
    if not onnx.is_file() or importlib.util.find_spec("onnxruntime") is None:
        return False
    source = (read_record(export_record_path(onnx)) or {}).get("source_sha256")
    return model_path.is_file() and sha256_of(model_path) == source
