"""``player-plugin mpd``: the MPD host, run until SIGINT/SIGTERM (player_plugin/hosts/mpd.py)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from player_plugin.cli_commands import _open_engine
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


def cmd_prompt(args: argparse.Namespace) -> int:
    from player_plugin.hosts.mpd import MpdTarget, send_prompt

    target = MpdTarget.from_env(args.socket, args.host, args.port)
    try:
        send_prompt(target, args.text)
    except OSError as exc:
        raise UserError(f"cannot reach MPD at {target.host} ({exc.strerror or exc})") from None
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
    p = sub.add_parser("prompt", help='steer a running `player-plugin mpd` (through MPD); "" clears it')
    p.add_argument("text", metavar="TEXT")
    _where(p)
