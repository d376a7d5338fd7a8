"""The host commands: ``mpd`` (player_plugin/hosts/mpd.py) and ``serve`` (hosts/service.py), each run
until SIGINT/SIGTERM; ``prompt`` reaching a running one; ``install quodlibet`` (hosts/install.py)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from player_plugin.cli_commands import _db_path, _open_engine
from player_plugin.cli_errors import EXIT_USAGE, UserError


def cmd_mpd(args: argparse.Namespace) -> int:
    from player_plugin.hosts.mpd import CHANNEL, MpdHost, MpdTarget

    if args.keep < 1:
        raise UserError("--keep wants at least 1 song queued after the current one", EXIT_USAGE)
    target = MpdTarget.from_env(args.socket, args.host, args.port)
    if not target.is_socket and not args.music_dir:
        raise UserError("over TCP MPD does not say where its music is: pass --music-dir DIR", EXIT_USAGE)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    engine = _open_engine(args)
    if args.prompt is not None:
        engine.set_prompt(args.prompt)
    host = MpdHost(engine, target, args.music_dir, keep=args.keep)
    worker = threading.Thread(target=host.run, name="mpd-host", daemon=True)

    def stop(_signum: int, _frame: object) -> None:
        host.stop()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    print(
        f"keeping {args.keep} songs queued in MPD at {target.host}"
        f'{"" if target.is_socket else f":{target.port}"}; a prompt: mpc sendmessage {CHANNEL} "TEXT"',
        file=sys.stderr,
        flush=True,
    )
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        engine.close()
    return 0


def _until_signal(stop) -> dict:
    """SIGINT and SIGTERM call ``stop`` from now on; returns the old handlers to put back."""
    return {s: signal.signal(s, lambda _signum, _frame: stop()) for s in (signal.SIGINT, signal.SIGTERM)}


def cmd_serve(args: argparse.Namespace) -> int:
    from player_plugin.hosts.service import EngineService, ServiceStartError
    from player_plugin.hosts.service_client import default_socket
    from player_plugin.shared_encoder import make_engine

    socket_path = args.socket or default_socket()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    engine = make_engine(_db_path(args))
    _ = engine.db.conn  # a bad database fails here, as one line
    service = EngineService(engine, socket_path)
    try:
        service.bind()
    except ServiceStartError as exc:
        engine.close()
        raise UserError(str(exc)) from None
    previous = _until_signal(service.stop)
    if args.prompt is not None:
        engine.set_prompt(args.prompt)
    print(f"serving the engine at {service.path} (protocol 1: docs/service.md)", file=sys.stderr, flush=True)
    if args.scan:
        service.run_call(None, "scan", {"paths": [str(p) for p in args.scan]})  # type: ignore[arg-type]
    try:
        service.serve_forever()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        engine.close()
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    from player_plugin.hosts.install import install_quodlibet
    from player_plugin.hosts.service_client import default_socket

    if args.keep < 1:
        raise UserError("--keep wants at least 1 song queued", EXIT_USAGE)
    db = _db_path(args).expanduser().absolute()
    try:
        done = install_quodlibet(db, args.socket or default_socket(), args.keep, args.userdir)
    except OSError as exc:
        raise UserError(f"cannot install the Quod Libet plugin: {exc}") from None
    print(f"installed the Quod Libet plugin in {done.folder}")
    print("enable it in Quod Libet: File → Plugins → “Up Next (player_plugin)”; it starts the engine itself:")
    print("  " + " ".join(done.command))
    return 0


def cmd_prompt(args: argparse.Namespace) -> int:
    from player_plugin.hosts.mpd import MpdTarget, send_prompt

    if args.service or not (args.socket or args.host or args.port) and _service_running(args.service):
        return _prompt_service(args)
    target = MpdTarget.from_env(args.socket, args.host, args.port)
    try:
        send_prompt(target, args.text)
    except OSError as exc:
        raise UserError(f"cannot reach MPD at {target.host} ({exc.strerror or exc})") from None
    print(f"prompt sent: {args.text}" if args.text.strip() else "prompt cleared")
    return 0


def _service_running(path: str | None) -> bool:
    from player_plugin.hosts.service_client import ServiceClient, ServiceUnavailable

    try:
        ServiceClient(path).connect().close()
    except ServiceUnavailable:
        return False
    return True


def _prompt_service(args: argparse.Namespace) -> int:
    from player_plugin.hosts.service_client import ServiceClient, ServiceError, ServiceUnavailable

    try:
        with ServiceClient(args.service) as client:
            client.call("set_prompt", text=args.text)
    except (ServiceUnavailable, ServiceError) as exc:
        raise UserError(str(exc)) from None
    print(f"prompt sent: {args.text}" if args.text.strip() else "prompt cleared")
    return 0


def _where(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--socket", metavar="PATH", help="MPD's UNIX socket (default: MPD_HOST if it is a path)")
    where.add_argument("--host", help="MPD's host (default: MPD_HOST, else localhost)")
    p.add_argument("--port", type=int, help="MPD's port (default: MPD_PORT, else 6600)")


def add_parser(sub: argparse._SubParsersAction, add_db) -> None:
    p = sub.add_parser("mpd", help="keep a running MPD's queue filled, learning from its plays and skips")
    _where(p)
    p.add_argument("--music-dir", metavar="DIR", help="MPD's music folder (default: asked of MPD over its socket)")
    p.add_argument("--keep", type=int, default=5, metavar="N", help="songs to keep queued after the current one")
    p.add_argument("--prompt", metavar="TEXT", help="steer Up Next from the start (change it live: mpc sendmessage)")
    add_db(p, argparse.SUPPRESS)
    p = sub.add_parser("prompt", help='steer a running `serve` (when one answers) or `mpd` (through MPD); "" clears it')
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--service", metavar="SOCKET", help="the engine service's socket (default: its usual place)")
    _where(p)

    p = sub.add_parser("serve", help="serve the engine to other players (JSON lines on a UNIX socket)")
    p.add_argument("--socket", metavar="PATH", help="where to listen (default: $XDG_RUNTIME_DIR/player-plugin/)")
    p.add_argument("--scan", metavar="DIR", action="append", type=Path, help="scan (and embed) a folder at start")
    p.add_argument("--prompt", metavar="TEXT", help="steer Up Next from the start")
    add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("install", help="install the plugin for another player (quodlibet)")
    p.add_argument("player", choices=["quodlibet"])
    p.add_argument("--userdir", metavar="DIR", type=Path, help="Quod Libet's folder (default: QUODLIBET_USERDIR, …)")
    p.add_argument("--socket", metavar="PATH", help="the engine service's socket (default: its usual place)")
    p.add_argument("--keep", type=int, default=5, metavar="N", help="songs to keep in Quod Libet's queue")
    add_db(p, argparse.SUPPRESS)


HANDLERS = {"mpd": cmd_mpd, "prompt": cmd_prompt, "serve": cmd_serve, "install": cmd_install}
