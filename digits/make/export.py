"""Taking a model out of the project: ONNX, LiteRT (.tflite) and TensorFlow SavedModel files,
each written by Keras's own model.export, and the check that they answer as Keras does.

    models/accurate.keras -> models/accurate.onnx         onnxruntime, the light path
                          -> models/accurate.tflite       LiteRT (TensorFlow Lite), phones
                          -> models/accurate.savedmodel/  TensorFlow Serving

Each exported file takes what the Keras model takes, raw 28x28 images with pixel values
0-255 as float32 (the line reader: its 32x192 strips), and gives the 10 class
probabilities (the line reader: its frames'). Beside it, <file>.json records
what it came from (the model file and its SHA-256), the command, the library versions,
and its parity with the Keras model on the 10,000 test images.
"""

import warnings
from pathlib import Path

import numpy as np

from digits import DigitsError
from digits.files import atomic_directory, atomic_output
from digits.read.inference import predict
from digits.read.onnx_model import OnnxModel

# format name -> (what Keras calls it, the exported file's suffix)
FORMATS = {
    "onnx": ("onnx", ".onnx"),
    "litert": ("litert", ".tflite"),
    "savedmodel": ("tf_saved_model", ".savedmodel"),
}
TOLERANCE = 1e-4  # the most an exported file's probability may differ from Keras's


def export_path(model_path, fmt):
    """models/accurate.keras -> models/accurate.onnx (or .tflite, .savedmodel)."""
    return Path(model_path).with_suffix(FORMATS[fmt][1])


def export(model, fmt, output, images):
    """Write `model` in format `fmt` at `output`, atomically (a folder for a SavedModel),
    once the written file has answered as `model` does on `images`; return that check."""
    from digits.backend import keras  # deferred: store imports this module on the light path

    keras_format = FORMATS[fmt][0]
    signature = [keras.InputSpec(shape=(None, *model.input_shape[1:]), dtype="float32")]
    writing = atomic_directory(output) if fmt == "savedmodel" else atomic_output(output)
    with writing as tmp:
        try:
            with warnings.catch_warnings():  # tf2onnx's own numpy FutureWarning, not ours
                warnings.simplefilter("ignore", FutureWarning)
                model.export(str(tmp), format=keras_format, verbose=False, input_signature=signature)
        except ImportError as err:
            raise DigitsError(
                f"exporting to {fmt} needs a package that is not installed ({err}); "
                f"pip install -r requirements.txt"
            ) from None
        check = parity(predict(model, images), predictor(tmp, fmt)(images))
        if check["different_digits"] or check["largest_probability_difference"] > TOLERANCE:
            raise DigitsError(
                f"the {fmt} export of {model.name} does not answer as the Keras model does "
                f"({check['different_digits']} digits differ, probabilities by up to "
                f"{check['largest_probability_difference']:.1e}); nothing was written"
            )
    return check


def predictor(path, fmt):
    """A function: raw images (N, 28, 28) -> probabilities (N, 10), run by the exported file's
    own runtime (onnxruntime, the LiteRT interpreter, TensorFlow), not by Keras."""
    if fmt == "onnx":
        return OnnxModel(path, classes=None, input_shape=None).predict
    if fmt == "litert":
        return _litert_predictor(path)
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serving_default"]

    def run_savedmodel(images):
        outputs = serve(tf.constant(np.asarray(images, dtype=np.float32)))
        return next(iter(outputs.values())).numpy()

    return run_savedmodel


def _litert_predictor(path):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    (source,), (sink,) = interpreter.get_input_details(), interpreter.get_output_details()

    def run_litert(images, batch_size=1000):
        images = np.asarray(images, dtype=np.float32)
        out = []
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            interpreter.resize_tensor_input(source["index"], batch.shape)
            interpreter.allocate_tensors()
            interpreter.set_tensor(source["index"], batch)
            interpreter.invoke()
            out.append(interpreter.get_tensor(sink["index"]).copy())
        return np.concatenate(out)

    return run_litert


def parity(keras_probabilities, exported_probabilities):
    """How an exported file's answers compare with the Keras model's on the same images."""
    keras_probabilities = np.asarray(keras_probabilities)
    exported_probabilities = np.asarray(exported_probabilities)
    # a classifier's digit, or any of the line reader's frames
    differ = keras_probabilities.argmax(axis=-1) != exported_probabilities.argmax(axis=-1)
    differ = differ.reshape(len(differ), -1).any(axis=1)
    return {
        "images": len(keras_probabilities),
        "different_digits": int(differ.sum()),
        "largest_probability_difference": float(
            np.abs(keras_probabilities - exported_probabilities).max()
        ),
        "tolerance": TOLERANCE,
    }
