"""A web page to draw a digit on and watch the model read it.

    python serve.py                      # http://127.0.0.1:8000, models/cnn.keras
    python serve.py --port 5000 --model models/mlp.keras

Serves one page (a canvas to draw on with mouse or finger, the prediction, a bar chart
of the ten probabilities, the 28x28 image the model saw) and one endpoint, POST
/predict, which takes the drawing as a PNG and answers in JSON. The drawing goes through
the same loading and normalisation as predict.py (digits.images). Listens on 127.0.0.1
only. Stop it with Ctrl-C.
"""

from digits.cli import ArgumentParser, positive_int, run


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=positive_int, default=8000, help="port on 127.0.0.1")
    parser.add_argument(
        "--model", default="models/cnn.keras", help="the .keras or .h5 model to use"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.port > 65535:
        from digits import DigitsError

        raise DigitsError(f"--port {args.port}: a port is a number from 1 to 65535")
    from digits.evaluation import load_model
    from digits.web import create_app

    app = create_app(load_model(args.model))
    print(f"serving {args.model} on http://127.0.0.1:{args.port}/ (Ctrl-C stops)")
    try:
        app.run(host="127.0.0.1", port=args.port, debug=False, use_reloader=False)
    except OSError as err:
        from digits import DigitsError

        raise DigitsError(
            f"cannot listen on 127.0.0.1:{args.port}: {err.strerror or err}"
        ) from None
    return 0


if __name__ == "__main__":
    run(main)
