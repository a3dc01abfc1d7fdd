"""`pool-profiles serve`: the /grid_pool routes and a small page, without ComfyUI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import sys

from ..errors import PoolProfilesError
from .common import open_store_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the pool/profile routes and a page over HTTP")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=port_number, default=8189, help="port (default: 8189; 0: any free)"
    )
    p.set_defaults(func=run)


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    return False


async def _serve(app: object, host: str, port: int, note: str = "") -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)  # type: ignore[arg-type]
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:  # unknown name, busy port, address not on this machine
            shown = f"[{host}]" if ":" in host else host
            reason = exc.strerror or str(exc)
            raise PoolProfilesError(
                f"cannot listen on {shown}:{port}: {reason}", code="listen_failed"
            ) from exc
        bound = runner.addresses[0][1] if runner.addresses else port
        shown = f"[{host}]" if ":" in host else host
        print(f"pool-profiles: serving on http://{shown}:{bound}/ (Ctrl+C to stop)", flush=True)
        if note:
            print(note, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def run(args: argparse.Namespace) -> int:
    from ..server.app import make_app  # aiohttp only when serving

    store = open_store_from_args(args)
    loopback = _is_loopback(args.host)
    if not loopback:
        print(
            f"pool-profiles: warning: binding {args.host}; these routes have no "
            "authentication, anyone who can reach the port can change the store",
            file=sys.stderr,
        )
    app = make_app(store, loopback_only=loopback, bind_host=args.host)
    with contextlib.suppress(KeyboardInterrupt):
        # After the address line: which store and how it runs (single writer and why).
        note = f"pool-profiles: store {store.url}: {store.writer_mode()}"
        asyncio.run(_serve(app, args.host, args.port, note))
    print("pool-profiles: server stopped", flush=True)
    return 0
