"""Command line of the fake: parse options, build the App, serve until signalled."""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading

from fakesprinklr import tls
from fakesprinklr.app import App
from fakesprinklr.config import DEFAULT_ENV, ConfigError, Environment
from fakesprinklr.server import FakeServer


def parse_args(argv):
    p = argparse.ArgumentParser(prog="fakesprinklr", description="A fake Sprinklr API server.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    p.add_argument("--tls-dir", help="where the CA and server certificate live (default: temp)")
    p.add_argument("--env", action="append", metavar="NAME:KEY:SECRET:REDIRECT_URI")
    p.add_argument("--profiles", type=int, default=1000, help="profiles per environment")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--token-lifetime", type=float, default=2591999)
    p.add_argument("--code-lifetime", type=float, default=600)
    p.add_argument("--cursor-lifetime", type=float, default=300)
    p.add_argument("--rate-per-second", type=int, default=10)
    p.add_argument("--rate-per-hour", type=int, default=1000)
    p.add_argument("--rate-window", type=float, default=3600,
                   help="seconds of the rate-per-hour window")
    p.add_argument("--rate-limit-answer", choices=("alternate", "403", "429"), default="alternate")
    p.add_argument("--max-page-size", type=int, default=1000)
    p.add_argument("--max-page-size-answer", choices=("400", "cap"), default="400",
                   help="a first page asking for more: 400, or at most the maximum with a cursor")
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--expires-in-string", action="store_true")
    p.add_argument("--ready-file")
    args = p.parse_args(argv)
    if args.profiles < 0:
        p.error("--profiles must be >= 0")
    return args


def build_app(args):
    envs = [Environment.parse(text) for text in (args.env or [DEFAULT_ENV])]
    settings = {name: getattr(args, name) for name in (
        "token_lifetime", "code_lifetime", "cursor_lifetime", "rate_per_second", "rate_per_hour",
        "rate_window", "rate_limit_answer", "max_page_size", "max_page_size_answer",
        "latency", "expires_in_string")}
    return App(envs, profiles=args.profiles, seed=args.seed, **settings)


def write_ready(path, server, ca_file):
    info = {"url": server.url(), "port": server.server_address[1], "ca_file": ca_file,
            "pid": os.getpid()}
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, path)


def _serve(server, ready_file, ca_file):
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="accept", daemon=True)
    thread.start()
    print(server.url(), flush=True)
    if ca_file:
        sys.stderr.write("fakesprinklr: clients must trust %s\n" % ca_file)
    if ready_file:
        write_ready(ready_file, server, ca_file)
    while not stop.wait(3600):
        pass
    server.stopping.set()
    server.shutdown()
    server.server_close()


def main(argv=None):
    args = parse_args(argv)
    try:
        app = build_app(args)
    except (ConfigError, ValueError) as err:
        sys.stderr.write("fakesprinklr: %s\n" % err)
        return 2
    tls_dir = args.tls_dir or (None if args.http else tempfile.mkdtemp(prefix="fakesprinklr-tls-"))
    try:
        context, ca_file = None, None
        if not args.http:
            ca_file, cert, key = tls.ensure(tls_dir)
            context = tls.server_context(cert, key)
        try:
            server = FakeServer(args.host, args.port, app, context)
        except OSError as err:
            sys.stderr.write("fakesprinklr: cannot listen on %s:%d: %s\n" % (args.host, args.port, err))
            return 1
        _serve(server, args.ready_file, ca_file)
    finally:
        if tls_dir and not args.tls_dir:
            shutil.rmtree(tls_dir, ignore_errors=True)
    return 0
