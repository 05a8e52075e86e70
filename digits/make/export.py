"""Taking a model out of the project: ONNX, LiteRT (.tflite) and TensorFlow SavedModel files,
and the check that they answer as Keras does.

    models/accurate.keras -> models/accurate.onnx         onnxruntime, the light path
                          -> models/accurate.tflite       LiteRT (TensorFlow Lite), phones
                          -> models/accurate.savedmodel/  TensorFlow Serving

Each exported file names its parts the same way: it takes `image`, uint8 of shape
(batch, 28, 28), the raw pixel values 0-255 as MNIST holds them (the line reader: its
(batch, 32, 192) strips), and gives `probabilities`, float32 (batch, 10) (the detector:
digit / not a digit; the line reader: (batch, 48, 17), its frames'). The ONNX and LiteRT
files carry metadata: the labels of the probabilities, what the input is, and the source
model's file name and SHA-256. Beside each, <file>.json records what it came from, the
command, the library versions, and its parity with the Keras model on the test images.
"""

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np

from digits import DigitsError
from digits.files import atomic_directory, atomic_output
from digits.read.inference import as_pixels, predict
from digits.read.onnx_model import OnnxModel

# format name -> the exported file's suffix
FORMATS = {"onnx": ".onnx", "litert": ".tflite", "savedmodel": ".savedmodel"}
TOLERANCE = 1e-4  # the most an exported file's probability may differ from Keras's
INPUT, OUTPUT, BATCH = "image", "probabilities", "batch"  # the exported files' names


def export_path(model_path, fmt):
    """models/accurate.keras -> models/accurate.onnx (or .tflite, .savedmodel)."""
    return Path(model_path).with_suffix(FORMATS[fmt])


def export(model, fmt, output, images, source=None):
    """Write `model` in format `fmt` at `output`, atomically (a folder for a SavedModel),
    once the written file has answered as `model` does on `images`; return that check.
    `source`: the model file, named (with its SHA-256) in the file's metadata."""
    about = metadata(model, source)
    writing = atomic_directory(output) if fmt == "savedmodel" else atomic_output(output)
    with writing as tmp:
        try:
            if fmt == "onnx":
                _write_onnx(model, tmp, about)
            elif fmt == "savedmodel":
                _write_savedmodel(model, tmp)
            else:
                _write_litert(model, tmp, about)
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


def metadata(model, source=None):
    """What an exported file says about itself: its labels, input, output and source."""
    from digits.provenance import sha256_of
    from digits.read.strip import BLANK, CLASSES, text_of

    takes, gives = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
    if len(gives) == 2:  # the line reader: a column of probabilities per frame
        labels = [text_of(c) or ("blank" if c == BLANK else "something else") for c in range(CLASSES)]
        seen = "a line of ink cropped to 28 rows, 2 pixels from the top left (digits.read.strip)"
    else:
        labels = list("0123456789") if gives == (10,) else ["digit", "not a digit"]
        seen = "one digit, white on black, centred as MNIST's are"
    shape = ", ".join(map(str, (BATCH, *takes)))
    about = {
        "labels": labels,
        "input": f"{INPUT}: uint8 ({shape}), raw pixel values 0-255: {seen}",
        "output": f"{OUTPUT}: float32 ({', '.join(map(str, (BATCH, *gives)))}), one per label",
        "source_model": model.name,
    }
    if source is not None:
        about.update(source=Path(source).name, source_sha256=sha256_of(source))
    return about


def serving_function(model):
    """`image` (uint8) -> {"probabilities": ...}: the signature every export is made of."""
    import tensorflow as tf

    spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.uint8, name=INPUT)
    return tf.function(lambda image: {OUTPUT: model(image, training=False)}, input_signature=[spec])


def _write_savedmodel(model, path):
    from digits.backend import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serving_function(model))  # the serving_default signature
    archive.write_out(str(path), verbose=False)


def _write_litert(model, path, about):
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    with tempfile.TemporaryDirectory() as saved:
        _write_savedmodel(model, saved)
        flat = tf.lite.TFLiteConverter.from_saved_model(saved).convert()
    lite = flatbuffer_utils.convert_bytearray_to_object(bytearray(flat))
    graph = lite.subgraphs[0]
    graph.tensors[graph.inputs[0]].name = INPUT.encode()
    graph.tensors[graph.outputs[0]].name = OUTPUT.encode()
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(about).encode(), dtype=np.uint8)
    lite.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = b"digits", len(lite.buffers) - 1
    lite.metadata.append(entry)
    flatbuffer_utils.write_model(lite, str(path))


def _write_onnx(model, path, about):
    import onnx

    from digits.backend import keras

    signature = [keras.InputSpec(shape=(None, *model.input_shape[1:]), dtype="uint8")]
    with warnings.catch_warnings():  # tf2onnx's own numpy FutureWarning, not ours
        warnings.simplefilter("ignore", FutureWarning)
        model.export(str(path), format="onnx", verbose=False, input_signature=signature)
    graph = (written := onnx.load(str(path))).graph
    # tf2onnx's names (args_0, Identity:0, unk__86) -> image, probabilities, batch
    renamed = {graph.input[0].name: INPUT, graph.output[0].name: OUTPUT}
    for node in graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]
    for value in (graph.input[0], graph.output[0]):
        value.name = renamed[value.name]
        value.type.tensor_type.shape.dim[0].dim_param = BATCH
    onnx.helper.set_model_props(written, {key: json.dumps(v) if isinstance(v, list) else v for key, v in about.items()})
    onnx.checker.check_model(written)
    onnx.save(written, str(path))


def predictor(path, fmt):
    """A function: raw images (N, 28, 28) -> probabilities (N, 10), run by the exported file's
    own runtime (onnxruntime, the LiteRT interpreter, TensorFlow) by its names, not by Keras."""
    if fmt == "onnx":
        return OnnxModel(path, classes=None, input_shape=None).predict
    if fmt == "litert":
        return _litert_predictor(path)
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    return lambda images: serve(**{INPUT: tf.constant(as_pixels(images))})[OUTPUT].numpy()


def _litert_predictor(path):
    from ai_edge_litert.interpreter import Interpreter

    run = Interpreter(model_path=str(path)).get_signature_runner()

    def run_litert(images, batch_size=1000):
        images = as_pixels(images)
        return np.concatenate(
            [run(**{INPUT: images[start : start + batch_size]})[OUTPUT] for start in range(0, len(images), batch_size)]
        )

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
