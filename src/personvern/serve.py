"""`personvern serve`: the web processes operators run in production.

gunicorn serves ``personvern.wsgi.application`` with the settings of the
environment (``PERSONVERN_*``). The command runs Django's system checks once in
the arbiter before any worker starts (in production with ``--deploy``, so a
missing secret stops the start, not the first request) and loads the
application before forking, so every worker shares the imported code.
Static files are served by the proxy in front (docs/operations.md).
"""

from __future__ import annotations

import argparse
import os
from typing import Any


def default_workers() -> int:
    """gunicorn's advice: two workers per core and one more."""
    return 2 * (os.cpu_count() or 1) + 1


def register(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve the system with gunicorn (production web processes)",
        description="Serve the web application with gunicorn. Put a TLS-terminating "
        "proxy in front, serving /static/ from STATIC_ROOT; run the worker "
        "(`personvern worker run`) beside it.",
    )
    serve.add_argument(
        "--bind", action="append", metavar="HOST:PORT",
        help="address to listen on (repeatable; default 127.0.0.1:8000)",
    )
    serve.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help=f"worker processes (default PERSONVERN_WEB_WORKERS or 2 × cores + 1 = "
        f"{default_workers()})",
    )
    serve.add_argument(
        "--threads", type=int, default=1, metavar="N",
        help="threads per worker (more than 1 uses gunicorn's gthread workers)",
    )
    serve.add_argument("--timeout", type=int, default=30, metavar="SECONDS",
                       help="a worker silent this long is restarted (default 30)")
    serve.add_argument("--access-log", metavar="FILE",
                       help="write an access log to FILE ('-' for standard output)")
    serve.set_defaults(func=run)


def gunicorn_options(args: argparse.Namespace) -> dict[str, Any]:
    workers = args.workers or int(os.environ.get("PERSONVERN_WEB_WORKERS") or 0) \
        or default_workers()
    if workers < 1 or args.threads < 1:
        raise SystemExit("--workers and --threads must be at least 1")
    options: dict[str, Any] = {
        "bind": args.bind or ["127.0.0.1:8000"],
        "workers": workers,
        "threads": args.threads,
        "worker_class": "gthread" if args.threads > 1 else "sync",
        "timeout": args.timeout,
        "preload_app": True,
        "proc_name": "personvern",
        # Requests carry personal data in forms and query strings: no access log unless asked.
        "accesslog": args.access_log,
        "errorlog": "-",
    }
    return options


def run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    production = settings.PERSONVERN_ENV == "production"
    call_command("check", deploy=production, fail_level="ERROR")
    connections.close_all()  # no connection may be shared by the forked workers

    options = gunicorn_options(args)

    class Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from personvern.wsgi import application

            return application

    Application().run()
    return 0
