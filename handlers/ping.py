"""Liveness."""


def get_ping():
    return "Pong", 200, {"Content-Type": "text/plain"}
