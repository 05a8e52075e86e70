"""A web page to draw a digit on and watch the model read it.

    python serve.py                      # http://127.0.0.1:8000, models/accurate.keras
    python serve.py --port 5000 --model models/mlp.keras

Serves one page (a canvas to draw on with mouse or finger, the prediction, a bar chart
of the ten probabilities, the 28x28 image the model saw) and one endpoint, POST
/predict, which takes the drawing as a PNG and answers in JSON. The drawing goes through
the same loading and normalisation as predict.py (digits.images). Listens on 127.0.0.1
only. Stop it with Ctrl-C.
"""

from digits import DEFAULT_MODEL
from digits.cli import ArgumentParser, positive_int, run


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=positive_int, default=8000, help="port on 127.0.0.1")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the .keras or .h5 model to use")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from digits import DigitsError

    if args.port > 65535:
        raise DigitsError(f"--port {args.port}: a port is a number from 1 to 65535")
    check_port_free(args.port)
    from werkzeug.serving import make_server

    from digits.store import load_model
    from digits.web import create_app

    server = make_server("127.0.0.1", args.port, create_app(load_model(args.model)), threaded=True)
    print(f"serving {args.model} on http://127.0.0.1:{args.port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    return 0


def check_port_free(port):
    """One clear line if the port is taken, rather than the web server's own two."""
    import socket

    from digits import DigitsError

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as err:
            raise DigitsError(
                f"cannot listen on 127.0.0.1:{port} ({err.strerror}); choose another --port"
            ) from None


if __name__ == "__main__":
    run(main)
