"""Prints how many cameras the registry holds (scripts/run loads the demo city when it is none)."""

from __future__ import annotations

import asyncio

import asyncpg

from dispatch.settings import Settings


async def _count() -> int:
    conn = await asyncpg.connect(Settings().dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM cameras"))
    finally:
        await conn.close()


if __name__ == "__main__":
    print(asyncio.run(_count()))
