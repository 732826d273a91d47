"""Run the ASGI app under gunicorn with uvicorn workers (one process per core is typical).

The gunicorn master is adjusted in three places: its log lines use our formatter (one log
format), it says in plain words when and why it stops, and the start banner is printed by
its ``when_ready`` hook, i.e. only once the port is bound.
"""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from collections.abc import Callable

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger as GunicornLogger

from harbor_api.log_setup import configure_logging, formatter_for
from harbor_api.malloc_tuning import tune_malloc
from harbor_api.settings import Settings


def gunicorn_logger_class(fmt: str) -> type[GunicornLogger]:
    """gunicorn's logger, writing its lines (and uvicorn's, which share its handlers) with
    our formatter, so the whole server log has one format."""

    class HarborGunicornLogger(GunicornLogger):
        def setup(self, cfg) -> None:
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(formatter_for(fmt))
            # everything else the master logs (and Python warnings) in the same format
            configure_logging(cfg.loglevel, fmt)

    return HarborGunicornLogger


class _ShutdownWording(logging.Filter):
    """gunicorn calls a worker it had to SIGKILL "Perhaps out of memory?"; when the master
    itself killed it at the end of the graceful timeout, say that instead."""

    def __init__(self, arbiter: HarborArbiter) -> None:
        super().__init__()
        self.arbiter = arbiter

    def filter(self, record: logging.LogRecord) -> bool:
        if self.arbiter.killed_after_timeout and "Perhaps out of memory" in str(record.msg):
            record.msg = (
                "worker (pid:%s) stopped (%s): its requests did not finish within graceful_timeout"
            )
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class HarborArbiter(Arbiter):
    """gunicorn's master, announcing a shutdown in plain words."""

    killed_after_timeout = False

    def setup(self, app) -> None:
        super().setup(app)
        logging.getLogger("gunicorn.error").addFilter(_ShutdownWording(self))

    def _announce(self, why: str) -> None:
        self.log.info(
            "harbor-api is shutting down (%s): no new connections; requests in "
            "flight get up to %s s (graceful_timeout) to finish; an upload cut "
            "short resumes from its last acknowledged offset after a restart",
            why,
            self.cfg.graceful_timeout,
        )

    def handle_term(self) -> None:
        self._announce("SIGTERM")
        super().handle_term()

    def handle_int(self) -> None:
        self._announce("SIGINT")
        super().handle_int()

    def handle_quit(self) -> None:
        self._announce("SIGQUIT")
        super().handle_quit()

    def kill_workers(self, sig: int) -> None:
        if sig == signal.SIGKILL and self.WORKERS:
            self.killed_after_timeout = True
            self.log.warning(
                "%d worker(s) still busy after graceful_timeout (%s s); stopping them now",
                len(self.WORKERS),
                self.cfg.graceful_timeout,
            )
        super().kill_workers(sig)


class HarborServer(BaseApplication):
    def __init__(self, settings: Settings, when_ready: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.on_ready = when_ready
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        on_ready = self.on_ready
        options = {
            "bind": f"[{s.host}]:{s.port}" if ":" in s.host else f"{s.host}:{s.port}",
            "workers": s.workers,
            "worker_class": "harbor_api.worker.HarborWorker",
            "timeout": 0 if s.workers == 1 else 300,
            "graceful_timeout": s.graceful_timeout,
            "keepalive": 75,
            "accesslog": None,
            "loglevel": s.log_level,
            "logger_class": gunicorn_logger_class(s.log_format),
            "when_ready": lambda arbiter: on_ready() if on_ready else None,
            "on_exit": lambda arbiter: arbiter.log.info("harbor-api stopped"),
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
        # Imported here, in the worker: the master never loads the app, the ORM or Connexion
        # (it stays small; see cli._prepare_in_child). Not a cycle: nothing imports server.
        from harbor_api.app import create_app

        configure_logging(self.settings.log_level, self.settings.log_format)
        # Credentials are resolved in harbor_api.asgi, not by Connexion's security handlers:
        # its per-operation "x-basicInfoFunc missing" notices are expected, not news.
        logging.getLogger("connexion.security").setLevel(logging.ERROR)
        return create_app(self.settings)

    def run(self) -> None:
        try:
            HarborArbiter(self).run()
        except RuntimeError as exc:  # what gunicorn's own run() does, with our arbiter
            print(f"harbor-api: cannot start: {exc}", file=sys.stderr, flush=True)
            sys.exit(1)


def run(settings: Settings, when_ready: Callable[[], None] | None = None) -> None:
    # Connexion imports starlette's test client, which warns about httpx on every start.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    tune_malloc()  # in the master, before it forks: the workers inherit the settings
    HarborServer(settings, when_ready).run()
