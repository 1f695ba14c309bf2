"""scripts/chaos [--short] [--soak] [--only NAMES]: runs scenarios, prints one table, writes chaos.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chaos_suite import consoles, crash, hostile, outage, soak
from chaos_suite.common import ROOT, Row

Scenario = Callable[[], Awaitable[Row]]
FULL: dict[str, Scenario] = {
    "crash": lambda: crash.run(calls=5000, rate=None),
    "outage": lambda: outage.run(seconds=60, rate=40, cut_s=20),
    "consoles": lambda: consoles.run(consoles=500, bad=50, calls=600, rate=20),
    "hostile": lambda: hostile.run(examples=200, parser_examples=2000),
    "soak": lambda: soak.run(),  # 30 minutes, 50 calls/s, 500 detections/s, 200 consoles
}
SHORT: dict[str, Scenario] = {
    "crash": lambda: crash.run(calls=300, rate=60),
    "outage": lambda: outage.run(seconds=15, rate=30, cut_s=5),
    "consoles": lambda: consoles.run(consoles=100, bad=10, calls=300, rate=40),
    "hostile": lambda: hostile.run(examples=25, parser_examples=300),
    "soak": lambda: soak.run(minutes=2, calls_s=10, detections_s=100, consoles=50),
}
HEAD = (
    "scenario",
    "calls sent",
    "stored",
    "dup",
    "lost",
    "events delivered",
    "missed",
    "dup",
    "5xx",
    "answer p50/p99 ms",
    "push p50/p99 ms",
)


def _ms(pair: tuple[float, float]) -> str:
    return "–" if pair[0] != pair[0] else f"{pair[0]:.0f} / {pair[1]:.0f}"


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table (for the terminal and the README alike)."""
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for r in rows:
        cells = (
            r.scenario,
            r.calls_sent,
            r.calls_stored,
            r.calls_duplicated,
            r.calls_lost,
            r.events_delivered,
            r.events_missed,
            r.events_duplicated,
            r.errors_5xx,
            _ms(r.answer_ms),
            _ms(r.push_ms),
        )
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def violations(row: Row) -> list[str]:
    """The invariants this row breaks."""
    checks = {
        "calls lost": row.calls_lost,
        "calls duplicated": row.calls_duplicated,
        "events missed": row.events_missed,
        "events duplicated": row.events_duplicated,
        "5xx answers": row.errors_5xx,
        "acknowledged but not stored": row.extra.get("acknowledged_not_stored", 0),
        "rejected requests that stored rows": len(row.extra.get("stored_when_rejected", [])),
        "errors in the service log": row.extra.get("service_errors_logged", 0),
    }
    return [f"{row.scenario}: {name} = {value}" for name, value in checks.items() if value]


async def _run(names: list[str], plan: dict[str, Scenario]) -> list[Row]:
    rows = []
    for name in names:
        started = time.monotonic()
        print(f"==> {name}", file=sys.stderr, flush=True)
        row = await plan[name]()
        row.extra["seconds"] = round(time.monotonic() - started, 1)
        rows.append(row)
    return rows


def main() -> int:
    """Runs the chosen scenarios; exit status 1 when an invariant is broken."""
    parser = argparse.ArgumentParser(prog="scripts/chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the scaled-down forms (soak: 2 minutes)")
    parser.add_argument("--soak", action="store_true", help="run only the soak")
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the full soak runs")
    parser.add_argument("--calls-s", type=float, default=50.0, help="the full soak's calls a second")
    parser.add_argument(
        "--detections-s", type=float, default=500.0, help="the full soak's detections a second"
    )
    parser.add_argument("--only", default="", help="comma-separated scenarios: " + ",".join(FULL))
    args = parser.parse_args()
    names = ["soak"] if args.soak else [n for n in (args.only.split(",") if args.only else FULL) if n]
    unknown = sorted(set(names) - set(FULL))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    scenarios = dict(SHORT if args.short else FULL)
    if not args.short:
        scenarios["soak"] = lambda: soak.run(args.minutes, args.calls_s, args.detections_s)
    rows = asyncio.run(_run(names, scenarios))
    print(table(rows))
    broken = [v for row in rows for v in violations(row)]
    report: dict[str, Any] = {
        "form": "short" if args.short else "full",
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": [row.as_json() for row in rows],
        "violations": broken,
    }
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "chaos.json").write_text(json.dumps(report, indent=2, default=str))
    for line in broken:
        print("VIOLATION", line, file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
