"""A web page to write a digit or a number on, or to send a photo to, and watch it read.

    python serve.py                        # http://127.0.0.1:8000, models/accurate.keras
    python serve.py --port 5000 --model models/cnn.keras
    python serve.py --host 0.0.0.0         # reachable from other machines (a warning says so)

Serves one page (a wide canvas to write on with mouse or finger, a button to send a photo
or an image file, the number read with a box and a confidence on each digit, "not a digit"
where it is not one, the probabilities of the least sure digit, the 28x28 images the model
saw) and one endpoint, POST /predict, which takes a PNG, JPEG or WebP image and answers in
JSON, read exactly as predict.py reads it (digits.reading). The models run on onnxruntime
when their exported .onnx files are there (see --backend), and the page on waitress, a
production WSGI server. Stop it with Ctrl-C.
"""

import ipaddress
import os
import sys

from digits.cli import ArgumentParser, positive_int, run
from digits.reading import add_reader_arguments


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=positive_int, default=8000, help="port to listen on")
    add_reader_arguments(parser)
    parser.add_argument(
        "--workers",
        type=positive_int,
        help="server processes (default: one per core with onnxruntime, one with Keras)",
    )
    parser.add_argument(
        "--threads", type=positive_int, default=8, help="threads in each server process"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from digits import DigitsError

    if args.port > 65535:
        raise DigitsError(f"--port {args.port}: a port is a number from 1 to 65535")
    check_port_free(args.host, args.port)
    from digits.onnx_model import OnnxModel
    from digits.reading import open_reader
    from digits.web import create_app, serve

    def opened():
        """The Reader that a server process reads pictures with."""
        return open_reader(args.model, args.reader, args.detector, args.backend, args.min_confidence)

    reader = opened()  # here, so a bad model, reader or detector is one clear line
    light = isinstance(reader.model, OnnxModel)
    # One process per core for the light path; a Keras model is one process (TensorFlow
    # uses every core itself, and each process would hold its own 600 MB).
    workers = args.workers or (len(os.sched_getaffinity(0)) if light else 1)
    if workers > 1:
        reader = None  # each worker opens its own, after it has forked
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}: anyone who can reach this machine can use "
            f"the page",
            file=sys.stderr,
        )

    def make_app(large_image_turn):
        return create_app(reader or opened(), large_image_turn)

    def ready(address):
        runtime = "onnxruntime" if light else "Keras"
        print(
            f"serving {args.model} ({runtime}, {workers} process{'es' if workers > 1 else ''}) "
            f"on {address} (Ctrl-C stops)",
            flush=True,
        )

    serve(make_app, args.host, args.port, workers=workers, threads=args.threads, ready=ready)
    print("stopped")
    return 0


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_port_free(host, port):
    """One clear line if the port is taken, rather than the web server's own traceback."""
    import socket

    from digits import DigitsError

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as err:
        raise DigitsError(f"--host {host}: not an address of this machine ({err})") from None
    with socket.socket(family) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            raise DigitsError(
                f"cannot listen on {host}:{port} ({err.strerror}); choose another --port"
            ) from None


if __name__ == "__main__":
    run(main)
