"""What a model file must take and give: the check that store and onnx_model share."""

INPUT_SHAPE = (28, 28)  # what every digit model takes: the raw image, pixel values 0-255


def output_shape(classes):
    """10 -> (10,); a tuple (the line reader's frames and classes) stays as it is."""
    return classes if isinstance(classes, tuple) else (classes,)


def fits(takes, gives, input_shape=INPUT_SHAPE, classes=10):
    """Whether a model's input and output shapes are those asked for (None: any). A
    dimension an ONNX file leaves unnamed (a string) fits any size."""
    return (input_shape is None or _same(takes, input_shape)) and (
        classes is None or _same(gives, output_shape(classes))
    )


def _same(shape, wanted):
    return len(shape) == len(wanted) and all(
        isinstance(d, str) or d is None or d == w for d, w in zip(shape, wanted)
    )
