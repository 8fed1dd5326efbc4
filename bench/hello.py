"""The baseline: a bare Flask app that returns "hello" (`gunicorn bench.hello:app`)."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "hello"
