"""The light inference path: an exported ONNX model run by onnxruntime, without TensorFlow.

OnnxModel answers the calls that digits.read.inference makes of a Keras model (predict() for
many images, a direct call for a few), so predict.py and the drawing page use it the same
way. Importing this module imports neither TensorFlow nor Keras; predict.py and serve.py
start in about a tenth of the time and memory (see README, "The light path").
"""

from pathlib import Path

import numpy as np

from digits import DigitsError
from digits.read.inference import as_pixels
from digits.read.shapes import fits, output_shape


class OnnxModel:
    def __init__(self, path, threads=None, classes=10, input_shape=(28, 28)):
        path = Path(path)
        if not path.is_file():
            raise DigitsError(f"no ONNX model at {path}; make one with 'python export.py'")
        try:
            import onnxruntime
        except ImportError:
            raise DigitsError(
                f"{path} needs onnxruntime: pip install -r requirements-infer.txt"
            ) from None
        options = onnxruntime.SessionOptions()
        # Idle threads sleep rather than spin: the server runs several sessions at once.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime's own error types; all mean a bad file here
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise DigitsError(f"{path} is not a readable ONNX model: {reason[:200]}") from None
        (source,), (sink,) = self.session.get_inputs(), self.session.get_outputs()
        if not fits(source.shape[1:], sink.shape[1:], input_shape, classes):
            raise DigitsError(
                f"{path} takes {source.shape} and gives {sink.shape}; an MNIST model here must "
                f"take the raw {tuple(input_shape)} image and give {output_shape(classes)}"
            )
        self.path, self.input_name = path, source.name
        # export.py's files take uint8 `image`; those written before it, float32 `args_0`
        self.dtype = np.uint8 if source.type == "tensor(uint8)" else np.float32

    def predict(self, images, batch_size=1000, verbose=0):
        images = as_pixels(images).astype(self.dtype)
        return np.concatenate(
            [
                self.session.run(None, {self.input_name: images[start : start + batch_size]})[0]
                for start in range(0, max(len(images), 1), batch_size)
            ]
        )

    def __call__(self, images, training=False):
        return self.predict(images)
