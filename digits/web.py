"""The drawing page's web application (Flask): the page, and POST /predict.

create_app(model) returns the app; serve.py runs it, and the tests drive it with
Flask's test client and with a real browser.
"""

import io
from pathlib import Path

from flask import Flask, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from digits import DigitsError
from digits.images import load_image
from digits.inference import answer

MAX_BODY = 512 * 1024  # a 280x280 drawing is a few kilobytes; this leaves room, not abuse
STATIC = Path(__file__).resolve().parent / "static"


def create_app(model):
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY

    @app.get("/")
    def page():
        return send_from_directory(STATIC, "draw.html")

    @app.post("/predict")
    def predict():
        if request.mimetype != "image/png":
            return error(415, "send the drawing as a PNG, with Content-Type: image/png")
        body = request.get_data(cache=False)
        if not body:
            return error(400, "the request has no image in it")
        try:
            result = answer(model, load_image(io.BytesIO(body), name="drawing"), name="drawing")
        except DigitsError as err:
            return error(400, str(err))
        result["input"] = [[round(float(v), 3) for v in row] for row in result["input"]]
        return jsonify(result)

    @app.errorhandler(HTTPException)
    def http_error(err):
        # Every error, too-large bodies and unknown paths included, is answered in JSON.
        return error(err.code, err.description)

    return app


def error(status, message):
    response = jsonify(error=message)
    response.status_code = status
    return response
