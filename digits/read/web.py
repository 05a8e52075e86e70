"""The drawing page's web application (Flask): the page, and POST /predict.

create_app(reader) returns the app; serve.py runs it in its server processes, and the
tests drive it with Flask's test client and with a real browser. /predict takes an image
(a drawing from the page, a photo or a file): PNG, JPEG, WebP, GIF or BMP, sent as the
request's body with its image Content-Type, or as a file field of a multipart/form-data
form (what `curl -F image=@photo.jpg` and most HTTP clients send). It reads every digit in
it (digits.read.reading) and answers in JSON; every error is a JSON object with an `error`
message and a 4xx or 503 status.

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
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp")
FORM = "multipart/form-data"
MAX_UPLOAD_PIXELS = 16_000_000  # a phone's photo is 12 megapixels
LARGE_PIXELS = 2_000_000  # more than a drawing or a downsized photo needs
LARGE_WAIT = 2.0  # seconds a large image may wait for its turn
LARGE_REST = 2.0  # after a large image, rest this many times as long as it took
STATIC = Path(__file__).resolve().parent / "static"


def create_app(reader, large_image_turn=None, in_thread=None):
    """The app, reading pictures with `reader` (digits.read.reading.Reader) as predict.py does.
    `large_image_turn` is the semaphore that large images take turns on (a test holds it);
    `in_thread(function, args)` runs the reading of a picture in a thread of the server's
    own, where the server needs it (serve.py: gevent's loop must not wait on a photo)."""
    in_thread = in_thread or (lambda function, args: function(*args))
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    large_image_turn = large_image_turn or threading.BoundedSemaphore(1)

    @app.get("/")
    def page():
        return send_from_directory(STATIC, "draw.html")

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
                "Content-Type (image/png, image/jpeg, ...), or as a file in a "
                "multipart/form-data form (curl -F image=@photo.jpg)"
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
        return jsonify(result)

    @app.errorhandler(HTTPException)
    def http_error(err):
        # Every error, too-large bodies and unknown paths included, is answered in JSON.
        return error(err.code, err.description)

    return app


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
