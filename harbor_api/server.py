"""Run the ASGI app under gunicorn with uvicorn workers (one process per core is typical)."""

from __future__ import annotations

import logging
import warnings

from gunicorn.app.base import BaseApplication

from harbor_api.settings import Settings


class HarborServer(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options = {
            "bind": f"[{s.host}]:{s.port}" if ":" in s.host else f"{s.host}:{s.port}",
            "workers": s.workers,
            "worker_class": "harbor_api.worker.HarborWorker",
            "timeout": 0 if s.workers == 1 else 300,
            "graceful_timeout": 10,
            "keepalive": 75,
            "accesslog": None,
            "loglevel": s.log_level,
        }
        if s.tls_cert:
            options["certfile"] = str(s.tls_cert)
            options["keyfile"] = str(s.tls_key)
        # gunicorn >= 25 opens a control socket at one per-user path; several servers on one
        # machine (tests, side-by-side instances) would fight over it, and nothing uses it.
        options["control_socket_disable"] = True
        for key, value in options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        from harbor_api.app import create_app
        from harbor_api.log_setup import configure_logging

        configure_logging(self.settings.log_level, self.settings.log_format)
        # Credentials are resolved in harbor_api.asgi, not by Connexion's security handlers:
        # its per-operation "x-basicInfoFunc missing" notices are expected, not news.
        logging.getLogger("connexion.security").setLevel(logging.ERROR)
        return create_app(self.settings)


def run(settings: Settings) -> None:
    # Connexion imports starlette's test client, which warns about httpx on every start.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    HarborServer(settings).run()
