"""`pool-profiles serve`: the /grid_pool routes and a small page, without ComfyUI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import signal
from pathlib import Path

from ..errors import PoolProfilesError
from .common import open_store_from_args

TOKEN_ENV = "POOL_PROFILES_SERVE_TOKEN"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the pool/profile routes and a page over HTTP")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=port_number, default=8189, help="port (default: 8189; 0: any free)"
    )
    p.add_argument(
        "--token-file",
        metavar="FILE",
        help=f"require the access token in FILE on every request (or set {TOKEN_ENV}); "
        "needed to listen beyond this machine",
    )
    p.set_defaults(func=run)


def read_token(args: argparse.Namespace) -> str | None:
    """The access token from --token-file, else the environment, else None. Errors
    name the file or the variable, never the token."""
    from ..server.auth import check_token  # aiohttp only when serving

    if args.token_file:
        path = Path(args.token_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise PoolProfilesError(
                f"cannot read the token file {path}: {reason}", code="bad_token"
            ) from None
        return check_token(text, f"the token file {path}")
    text = os.environ.get(TOKEN_ENV, "")
    return check_token(text, TOKEN_ENV) if text.strip() else None


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


async def _serve(app: object, host: str, port: int, note: str = "", *, token: bool = False) -> None:
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
        guard = "access token required; " if token else ""
        print(
            f"pool-profiles: serving on http://{shown}:{bound}/ ({guard}Ctrl+C to stop)",
            flush=True,
        )
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

    token = read_token(args)
    loopback = _is_loopback(args.host)
    if not loopback and token is None:
        raise PoolProfilesError(
            f"refusing to listen on {args.host} without an access token: anyone who can "
            f"reach the port could change the store; use --token-file FILE or {TOKEN_ENV}",
            code="token_required",
        )
    store = open_store_from_args(args)
    # Without a token only loopback names are answered (against DNS rebinding); with
    # one, every request proves itself, so a reverse proxy's Host header is fine.
    app = make_app(
        store, loopback_only=loopback and token is None, bind_host=args.host, token=token
    )
    with contextlib.suppress(KeyboardInterrupt):
        # After the address line: which store and how it runs (single writer and why).
        note = f"pool-profiles: store {store.url}: {store.writer_mode()}"
        asyncio.run(_serve(app, args.host, args.port, note, token=token is not None))
    print("pool-profiles: server stopped", flush=True)
    return 0
