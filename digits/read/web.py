"""The drawing page's web application (Flask): the page, POST /predict, GET /health and
GET /api (the OpenAPI description of the three).

create_app(reader) returns the app; serve.py runs it in its server processes, and the
tests drive it with Flask's test client and with a real browser. /predict takes an image
(a drawing from the page, a photo or a file): PNG, JPEG, WebP, GIF or BMP, sent as the
request's body with its image Content-Type (or application/octet-stream: the image's own
header says what it is), or as a file field of a multipart/form-data form (what `curl -F
image=@photo.jpg` and most HTTP clients send). It reads every digit in it
(digits.read.reading) and answers in JSON, naming the models that read it; every error is
a JSON object with an `error` message and a 4xx or 503 status. With `cors` set to an
origin, a page served from there may call it too.

A drawing costs a few milliseconds, but a small file can decode to a huge image (a
40-megapixel PNG of one colour is a few kilobytes). So the app refuses images over
MAX_UPLOAD_PIXELS unread (413), and takes those over LARGE_PIXELS one at a time in each server
process, resting after each twice as long as it worked on it: they never get more than a
third of a core per process, however many arrive. One that cannot get its turn within
LARGE_WAIT seconds is answered 503.
"""

import io
import threading
import time
from pathlib import Path

from flask import Flask, jsonify, request, send_from_directory
from PIL import Image
from werkzeug.exceptions import HTTPException

from digits import DigitsError
from digits.read.images import load_picture

MAX_BODY = 8 * 1024 * 1024  # room for a phone's photo; a drawing is a few kilobytes
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "application/octet-stream")
FORM = "multipart/form-data"
MAX_UPLOAD_PIXELS = 16_000_000  # a phone's photo is 12 megapixels
LARGE_PIXELS = 2_000_000  # more than a drawing or a downsized photo needs
LARGE_WAIT = 2.0  # seconds a large image may wait for its turn
LARGE_REST = 2.0  # after a large image, rest this many times as long as it took
STATIC = Path(__file__).resolve().parent / "static"


def create_app(reader, large_image_turn=None, in_thread=None, cors=None):
    """The app, reading pictures with `reader` (digits.read.reading.Reader) as predict.py does.
    `large_image_turn` is the semaphore that large images take turns on (a test holds it);
    `in_thread(function, args)` runs the reading of a picture in a thread of the server's
    own, where the server needs it (serve.py: gevent's loop must not wait on a photo);
    `cors` the origin (or "*") whose pages may call the API."""
    in_thread = in_thread or (lambda function, args: function(*args))
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    large_image_turn = large_image_turn or threading.BoundedSemaphore(1)

    @app.get("/")
    def page():
        return send_from_directory(STATIC, "draw.html")

    @app.get("/health")
    def health():
        return jsonify(status="ok", models=reader.models)

    @app.get("/api")
    def api():
        return jsonify(openapi(MAX_BODY, MAX_UPLOAD_PIXELS))

    if cors:
        @app.after_request
        def allow_origin(response):
            response.headers["Access-Control-Allow-Origin"] = cors
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            return response

    @app.post("/predict")
    def predict():
        if request.mimetype == FORM:
            upload = request.files.get("image") or next(iter(request.files.values()), None)
            body = upload.read() if upload else b""
        elif request.mimetype in IMAGE_TYPES:
            body = request.get_data(cache=False)
        else:
            return error(
                415, "send an image (PNG, JPEG, WebP, GIF or BMP) as the body with its "
                "Content-Type (image/png, image/jpeg, ..., or application/octet-stream), or "
                "as a file in a multipart/form-data form (curl -F image=@photo.jpg)"
            )
        if not body:
            return error(400, "the request has no image in it")
        pixels = declared_pixels(body)
        if pixels > MAX_UPLOAD_PIXELS:
            return error(
                413, f"the image has {pixels / 1e6:.0f} megapixels, over this server's "
                f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixel limit; send a smaller one"
            )
        large = pixels > LARGE_PIXELS
        if large and not large_image_turn.acquire(timeout=LARGE_WAIT):
            return error(503, "busy with other large images; send a smaller one or try again")
        started = time.perf_counter()
        try:
            result = in_thread(read, (reader, body))
        except DigitsError as err:
            return error(400, str(err))
        finally:
            if large:
                time.sleep(LARGE_REST * (time.perf_counter() - started))
                large_image_turn.release()
        return jsonify({**result, "models": reader.models})

    @app.errorhandler(HTTPException)
    def http_error(err):
        # Every error, too-large bodies and unknown paths included, is answered in JSON.
        if err.code == 413:
            return error(413, f"the request is over this server's {MAX_BODY // 2**20} MB limit; "
                              "send a smaller image (a photo reduced to a few megapixels reads as well)")
        return error(err.code, err.description)

    return app


def openapi(max_body, max_pixels):
    """The API's OpenAPI 3 description (GET /api)."""

    def json_of(schema):
        return {"application/json": {"schema": schema}}

    def error(text):
        return {"description": text, "content": json_of({"$ref": "#/components/schemas/Error"})}

    def field(kind, text="", **more):
        return {"type": kind, **({"description": text} if text else {}), **more}

    box = field("object", properties={k: field("integer") for k in ("left", "top", "width", "height")})
    binary = {"schema": field("string", format="binary")}
    reading = {
        "number": field("string", "digits and separators (. , - / :) as written, a space where the writer left "
                        "one, a line break between lines; null: not a number", nullable=True),
        "number_confidence": field("number", "how sure of the whole number, calibrated", nullable=True),
        "reason": field("string", "why it is not a number; null when it is", nullable=True),
        "digits": field("array", items=field("object", properties={
            "digit": field("integer", nullable=True), "confidence": field("number"),
            "probabilities": field("array", items=field("number")), "box": box,
            "input": field("array", "the 28x28 digit the model saw, 0-1"),
            "reason": field("string", nullable=True)})),
        "separators": field("array", items=field("object", properties={
            "separator": field("string"), "confidence": field("number"), "box": box})),
        "lines": field("array", "each line's number, top to bottom", items=field("string", nullable=True)),
        **{name: field(kind, f"a picture of one digit: its {name}; null for any other", nullable=True)
           for name, kind in (("digit", "integer"), ("confidence", "number"), ("probabilities", "array"),
                              ("input", "array"))},
        "models": field("object", "the models that read it: file and weights_sha256 of each"),
    }
    every_request = {
        "408": error("the request did not arrive in time (serve.py --request-timeout)"),
        "429": error("this address holds too many connections (serve.py --connections-per-address)"),
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Digit reader", "version": "1", "description":
                 "Reads the digits in a picture: a number as written (separators kept), or 'not a digit'."},
        "paths": {
            "/predict": {"post": {
                "summary": "Read a picture",
                "requestBody": {"required": True, "content": {
                    **{kind: binary for kind in IMAGE_TYPES},
                    FORM: {"schema": field("object", properties={"image": binary["schema"]})},
                }},
                "responses": {
                    "200": {"description": "The reading", "content": json_of({"$ref": "#/components/schemas/Reading"})},
                    "400": error("no image in the request, or one that cannot be read"),
                    "413": error(f"a request over {max_body // 2**20} MB, or an image over {max_pixels // 10**6} "
                                 "megapixels"),
                    "415": error("not an image type"),
                    "503": error("busy with other large images: try again"),
                    **every_request,
                },
            }},
            "/health": {"get": {"summary": "Whether the server is up, and its models",
                                "responses": {"200": {"description": "status 'ok' and the models"}}}},
            "/api": {"get": {"summary": "This description", "responses": {"200": {"description": "OpenAPI 3"}}}},
        },
        "components": {"schemas": {
            "Error": field("object", properties={"error": field("string")}),
            "Reading": field("object", properties=reading, required=sorted(reading)),
        }},
    }


def read(reader, body):
    """An image's bytes -> its Reading, as JSON."""
    picture, scale = load_picture(io.BytesIO(body), name="image")
    return reader.read(picture, "image", scale).to_json()


def declared_pixels(body):
    """Width x height as the image's header states it (nothing decoded), 0 if unreadable:
    load_picture then says what is wrong with it."""
    try:
        with Image.open(io.BytesIO(body)) as image:
            return image.width * image.height
    except Exception:  # any unreadable header; load_picture reports it properly
        return 0


def error(status, message):
    response = jsonify(error=message)
    response.status_code = status
    return response
