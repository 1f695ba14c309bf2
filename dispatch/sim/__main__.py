"""python -m dispatch.sim [gateway|calls|detections|all] --url URL --sender NAME --secret S."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import signal
import sys
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from dispatch.sim import Sender
from dispatch.sim.calls import CallSimulator, Recent, places_from_city
from dispatch.sim.detections import DetectionSimulator
from dispatch.sim.gateway import serve_gateway


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m dispatch.sim", description=__doc__)
    parser.add_argument("mode", nargs="?", default="all", choices=("gateway", "calls", "detections", "all"))
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="Callsight's base URL")
    parser.add_argument("--sender", default="sim", help="signed sender name")
    parser.add_argument(
        "--secret",
        default=os.environ.get("CALLSIGHT_SIM_SECRET", ""),
        help="the sender's secret (default $CALLSIGHT_SIM_SECRET; the environment keeps it out of ps)",
    )
    parser.add_argument("--gateway", default=None, help="feed URL template (default: Callsight's setting)")
    parser.add_argument("--listen", default=None, help="gateway host:port (default: the template's)")
    parser.add_argument("--fps", type=float, default=2.0, help="MJPEG frames a second")
    parser.add_argument("--calls-per-minute", type=float, default=2.0)
    parser.add_argument("--detections-per-minute", type=float, default=6.0)
    parser.add_argument("--cameras", type=int, default=37_000, help="demo city size (as loaded)")
    parser.add_argument("--city-seed", type=int, default=7, help="demo city seed (as loaded)")
    parser.add_argument("--seed", type=int, default=None, help="simulation seed (default: random)")
    args = parser.parse_args(argv)
    if args.mode != "gateway" and not args.secret:
        parser.error("calls and detections need --secret (or CALLSIGHT_SIM_SECRET)")
    if args.gateway is None:
        from dispatch.settings import Settings

        args.gateway = Settings().media_gateway
    if args.listen is None:
        parts = urlsplit(args.gateway.replace("{path}", "p"))
        args.listen = f"{parts.hostname or '127.0.0.1'}:{parts.port or 8090}"
    return args


def _city(args: argparse.Namespace) -> list[dict[str, Any]]:
    from dispatch.demo_city import generate

    features: list[dict[str, Any]] = generate(args.cameras, args.city_seed)["features"]
    return features


async def run(args: argparse.Namespace) -> None:
    """Runs the chosen simulators until cancelled."""
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    jobs: list[Coroutine[Any, Any, None]] = []
    runner = None
    if args.mode in ("gateway", "all"):
        host, _, port = args.listen.rpartition(":")
        runner = await serve_gateway(args.url, host or "127.0.0.1", int(port), args.fps)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        sender = Sender(session, args.url, args.sender, args.secret)
        recent = Recent()
        if args.mode in ("calls", "detections", "all"):
            features = await asyncio.to_thread(_city, args)
            rng = random.Random(seed)
            if args.mode in ("calls", "all"):
                places = places_from_city(features, rng)
                jobs.append(CallSimulator(sender, places, recent, args.calls_per_minute, seed).run())
            if args.mode in ("detections", "all"):
                cameras = [f["properties"]["camera_id"] for f in features if f["properties"].get("connected")]
                rate = args.detections_per_minute
                jobs.append(DetectionSimulator(sender, cameras, recent, rate, args.gateway, seed).run())
        try:
            await asyncio.gather(*jobs, asyncio.Event().wait())
        finally:
            if runner is not None:
                await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs until SIGINT or SIGTERM."""
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="sim %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def guarded() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: task.cancel() if task else None)
        with contextlib.suppress(asyncio.CancelledError):
            await run(args)

    asyncio.run(guarded())


if __name__ == "__main__":
    main()
