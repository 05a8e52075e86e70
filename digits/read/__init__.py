"""The read side: a person's picture -> a Reading (its number, or "not a digit").

images      a picture file -> grey levels -> its ink -> a 28x28 MNIST-style digit
strip       the line reader's view of the ink: the 32 x 192 strip, its frames and classes
models      opening a model safely: a Keras file, or its ONNX export on onnxruntime
onnx_model  an exported .onnx model run by onnxruntime (the light install: no TensorFlow)
shapes      what a model file must take and give
inference   class probabilities for images, from either kind of model; ensembles
reading     the Reader: the steps from picture to Reading (predict.py and the page)
web         the drawing page and its HTTP API (serve.py)

Nothing here imports Keras's training parts, the data, the generators or the fonts: the
light install (requirements-infer.txt) reads pictures with these modules alone.
"""
