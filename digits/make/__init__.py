"""The make side: the data and the networks, and what makes, trains and exports them.

data        MNIST on disk (data/mnist.npz), checked, and the validation hold-out
idx         the original IDX files -> data/mnist.npz (python -m digits.make.idx DIR)
fonts       the typefaces the generators draw in, split by family into train, dev and test
synthetic   pictures made by code: typeset and pen-drawn digits, letters, scribbles, shapes
lines       lines of ink made by code, to train and test the line reader
detector    the not-a-digit detector's data and its threshold
networks    every network described once: builder, input, output, task, recipe
layers      the networks' Keras layers, and the training-only augmentation
training    training a network by its description, keeping the best epoch
progress    a run's progress on disk, so that it resumes; one run per output file
calibration temperature scaling: confidences that mean what they say
store       saving a model with its record beside it
export      ONNX, LiteRT and SavedModel files, checked against Keras
"""
