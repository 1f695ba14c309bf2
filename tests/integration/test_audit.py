"""The audit log in PostgreSQL: one chain from many writers, append-only, verified and exported by the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import psycopg
import pytest
from click.testing import CliRunner, Result

from dispatch.audit.chain import Walker
from dispatch.audit.cli import audit
from dispatch.audit.export import verify_chain
from dispatch.audit.writer import Auditor, append_now
from dispatch.settings import Settings
from dispatch.storage.db import create_pool, transaction

T = TypeVar("T")


@contextlib.asynccontextmanager
async def _pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(dsn, 1, 4)
    try:
        yield pool
    finally:
        await pool.close()


async def _write(dsn: str, count: int) -> None:
    async with _pool(dsn) as pool:
        auditor = Auditor(batch_size=7)
        for i in range(count):
            auditor.record(
                f"console-{i}", "police", "feed.granted", {"camera_id": f"CAM-{i}"}, "incident i-1"
            )
        assert await auditor.flush(pool)


def _sync(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(work())


def _tamper(dsn: str, sql: str) -> None:
    # As the superuser who owns the table: the trigger must be switched off first, which is what the chain
    # is there to catch.
    with psycopg.connect(dsn) as conn:
        conn.execute("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
        conn.execute(sql)
        conn.execute("ALTER TABLE audit ENABLE TRIGGER audit_append_only")


def _cli(dsn: str, *args: str) -> Result:
    return CliRunner().invoke(audit, list(args), env={"CALLSIGHT_DATABASE_URL": dsn})


async def test_two_instances_and_in_transaction_writes_extend_one_chain(settings: Settings) -> None:
    async with _pool(settings.dsn) as first, _pool(settings.dsn) as second:
        auditors = [Auditor(batch_size=40, interval_s=0.005), Auditor(batch_size=40, interval_s=0.005)]
        runs = [asyncio.create_task(a.run(p)) for a, p in zip(auditors, (first, second), strict=True)]

        async def disclose(k: int) -> None:
            for i in range(500):
                auditors[k].record(
                    f"console-{k}", "fire", "incident.delivered", {"incident_id": f"{k}-{i}"}, None
                )
                if i % 25 == 0:
                    await asyncio.sleep(0.002)

        async def in_transaction(pool: asyncpg.Pool) -> None:
            for i in range(15):
                async with transaction(pool) as conn:
                    await append_now(conn, "cli", "admin", "token.issued", {"token_id": f"t{i}"}, "issued")
            # A rolled-back write leaves a gap in audit_id: the chain must not mind.
            with contextlib.suppress(ZeroDivisionError):
                async with transaction(pool) as conn:
                    await append_now(conn, "cli", "admin", "token.issued", {"token_id": "never"})
                    _ = 1 / 0

        await asyncio.gather(disclose(0), disclose(1), in_transaction(first), in_transaction(second))
        for auditor in auditors:
            auditor.stop()
        await asyncio.gather(*runs)
        async with first.acquire() as conn:
            walker = Walker()
            assert await verify_chain(conn, walker) is None
            never = await conn.fetchval("SELECT count(*) FROM audit WHERE subject->>'token_id' = 'never'")
    assert walker.count == 1030 and never == 0
    assert [a.written for a in auditors] == [500, 500] and [a.dropped for a in auditors] == [0, 0]


async def test_rows_wait_out_a_database_failure_and_are_written_once(settings: Settings) -> None:
    auditor = Auditor()
    auditor.record("console-1", "police", "feed.used", {"camera_id": "CAM-1"}, "incident i-1")
    unreachable = await asyncpg.create_pool("postgresql://nobody@127.0.0.1:1/none", min_size=0, timeout=1)
    assert not await auditor.flush(unreachable)
    await unreachable.close()
    assert len(auditor.pending) == 1 and auditor.failures == 1
    async with _pool(settings.dsn) as pool:
        assert await auditor.flush(pool)
        # A COMMIT whose answer was lost: the retry finds the rows stored and does not write them twice.
        auditor.record("console-1", "police", "feed.used", {"camera_id": "CAM-2"}, "incident i-1")
        again = auditor.pending[0]
        assert await auditor.flush(pool)
        last = await pool.fetchrow("SELECT audit_id, hash FROM audit ORDER BY audit_id DESC LIMIT 1")
        auditor.pending.append(again)
        auditor._unsure = (last["audit_id"], last["hash"], 1)
        assert await auditor.flush(pool)
        assert await pool.fetchval("SELECT count(*) FROM audit") == 2
        async with pool.acquire() as conn:
            assert await verify_chain(conn) is None


async def test_subjects_survive_the_jsonb_round_trip(settings: Settings) -> None:
    auditor = Auditor()
    subject = {"z": [1, 2.5, 1e20, True, None], "a": {"tên": "Bến Thành\x00"}, "ids": ("x", "y")}
    auditor.record("console\x00", "police", "call.viewed", subject, "incident ở đây")
    async with _pool(settings.dsn) as pool:
        assert await auditor.flush(pool)
        async with pool.acquire() as conn:
            assert await verify_chain(conn) is None


async def test_append_now_refuses_to_run_outside_a_transaction(settings: Settings) -> None:
    async with _pool(settings.dsn) as pool, pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside a transaction"):
            await append_now(conn, "cli", "admin", "token.issued", {})


@pytest.mark.parametrize("statement", ["UPDATE audit SET reason = 'edited'", "DELETE FROM audit"])
def test_the_service_cannot_update_or_delete_audit_rows(settings: Settings, statement: str) -> None:
    _sync(lambda: _write(settings.dsn, 3))
    with psycopg.connect(settings.dsn) as conn, pytest.raises(psycopg.Error, match="append-only"):
        conn.execute(statement)  # even the table's owner, through the trigger
    with psycopg.connect(settings.dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SET ROLE callsight_service")
        conn.execute(statement)  # the service role, by its grants
    with psycopg.connect(settings.dsn) as conn:
        conn.execute("SET ROLE callsight_service")
        assert conn.execute("SELECT count(*) FROM audit").fetchone() == (3,)
        conn.execute("UPDATE cameras SET name = name")  # its other tables stay writable


def test_verify_says_ok_with_the_count_and_head(settings: Settings) -> None:
    _sync(lambda: _write(settings.dsn, 20))
    result = _cli(settings.dsn, "verify")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK 20 rows, head 20 ")


@pytest.mark.parametrize(
    ("tampering", "named"),
    [
        ('UPDATE audit SET subject = \'{"camera_id": "OTHER"}\' WHERE audit_id = 9', "audit_id 9 altered"),
        ("UPDATE audit SET at = at + interval '1 second' WHERE audit_id = 1", "audit_id 1 altered"),
        ("DELETE FROM audit WHERE audit_id = 12", "audit_id 13 deleted"),
        (
            "UPDATE audit SET audit_id = -5 WHERE audit_id = 5;"
            " UPDATE audit SET audit_id = 5 WHERE audit_id = 6;"
            " UPDATE audit SET audit_id = 6 WHERE audit_id = -5",
            "audit_id 5 moved",
        ),
    ],
)
def test_verify_names_the_first_broken_row(settings: Settings, tampering: str, named: str) -> None:
    _sync(lambda: _write(settings.dsn, 20))
    _tamper(settings.dsn, tampering)
    result = _cli(settings.dsn, "verify")
    assert result.exit_code == 1
    assert result.output.startswith(f"BROKEN at {named}: ")


def test_verify_reports_an_unreachable_database_apart_from_a_broken_chain() -> None:
    result = _cli("postgresql://nobody@127.0.0.1:1/none", "verify")
    assert result.exit_code == 2 and "cannot read the audit log" in result.output


def test_export_writes_json_lines_in_the_window(settings: Settings, tmp_path: Path) -> None:
    _sync(lambda: _write(settings.dsn, 10))
    base = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    with psycopg.connect(settings.dsn) as conn:
        conn.execute("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
        conn.execute("UPDATE audit SET at = %s + audit_id * interval '1 minute'", (base,))
        conn.execute("ALTER TABLE audit ENABLE TRIGGER audit_append_only")
    since, until = base + timedelta(minutes=3), base + timedelta(minutes=7)
    out = tmp_path / "audit.jsonl"
    window = ["--since", "2026-11-26T20:03:00+07:00", "--until", until.isoformat().replace("+00:00", "Z")]
    result = _cli(settings.dsn, "export", *window, "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["audit_id"] for line in lines] == [3, 4, 5, 6]
    assert lines[0]["at"] == since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    columns = "audit_id at actor agency action subject reason prev_hash hash"
    assert set(lines[0]) == set(columns.split())
    assert lines[0]["subject"] == {"camera_id": "CAM-2"} and lines[1]["prev_hash"] == lines[0]["hash"]
    everything = _cli(settings.dsn, "export")
    assert len(everything.stdout.splitlines()) == 10


def test_export_refuses_a_time_without_an_offset(settings: Settings) -> None:
    result = _cli(settings.dsn, "export", "--since", "2026-11-26T20:00:00")
    assert result.exit_code == 2 and "offset" in result.output
