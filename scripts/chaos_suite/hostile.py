"""Hostile input: schemathesis over every operation of /openapi.json, signed, checking 'no 5xx'."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos_suite import fuzz
from chaos_suite.common import COUNTED, Row, Service, database, signed, token
from chaos_suite.load import seed_cameras

WRITES = {"POST", "PUT", "DELETE", "PATCH"}


class Signing(requests.auth.AuthBase):
    """Signs each write's exact body as a sender; reads carry a supervisor's bearer token."""

    def __init__(self) -> None:
        self.bearer = "Bearer " + token("supervisor", "hostile-reader")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.method in WRITES:
            body = request.body or b""
            raw = body.encode() if isinstance(body, str) else body
            headers = signed(raw if isinstance(raw, bytes) else b"")
            headers.pop("Content-Type")
            request.headers.update(headers)
        else:
            request.headers["Authorization"] = self.bearer
        return request


class Counts:
    """Row counts of the tables a request may write, on one open connection."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in COUNTED)

    def now(self) -> tuple[int, ...]:
        """The counts now."""
        row = self.conn.execute(self.query).fetchone()
        return tuple(int(n) for n in row or ())

    def close(self) -> None:
        """Closes the connection."""
        self.conn.close()


@dataclass
class Findings:
    """What hostile requests did: cases run, 5xx answers, rejected requests that stored something."""

    cases: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    stored_when_rejected: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)

    def judge(
        self, label: str, status: int, before: tuple[int, ...], after: tuple[int, ...], note: str
    ) -> None:
        """Counts one answered case and records what it broke."""
        self.cases[label] += 1
        if status >= 500:
            self.server_errors.append(f"{label} -> {status}: {note[:300]}")
        if status >= 400 and before != after:
            self.stored_when_rejected.append(f"{label} -> {status}: rows {before} -> {after}: {note[:200]}")


def _schemathesis(service: Service, counts: Counts, findings: Findings, examples: int) -> None:
    """Every operation, positive and negative generation, `examples` cases each."""
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.core.result import Ok

    schema = schemathesis.openapi.from_url(service.url + "/openapi.json")
    session = requests.Session()
    session.auth = Signing()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            findings.transport_errors.append(f"unusable operation in /openapi.json: {result.err()!r}"[:300])
            continue
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        strategy = st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode))
        _probe(
            label,
            strategy,
            examples,
            lambda case, label=label: _call(case, label, service, session, counts, findings),
        )()


def _probe(label: str, strategy: st.SearchStrategy[Any], examples: int, check: Any) -> Any:
    """A hypothesis test running `check` on `examples` cases of `strategy`."""

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def probe(case: Any) -> None:
        check(case)

    return probe


def _call(
    case: Any, label: str, service: Service, session: requests.Session, counts: Counts, findings: Findings
) -> None:
    before = counts.now()
    try:
        response = case.call(base_url=service.url, session=session, timeout=30)
    except requests.RequestException as exc:
        findings.transport_errors.append(f"{label}: {exc!r}"[:300])
        return
    findings.judge(label, response.status_code, before, counts.now(), response.text)


@contextlib.contextmanager
def _target(label: str, cameras: int) -> Iterator[tuple[Service, str]]:
    with database(label) as db:
        service = Service(db)
        try:
            service.start()
            seed_cameras(service, cameras)
            yield service, db
        finally:
            service.close()


def _row(service: Service, findings: Findings, extra: dict[str, Any]) -> Row:
    row = Row("hostile", errors_5xx=len(findings.server_errors))
    row.extra.update(
        cases=sum(findings.cases.values()),
        cases_by_operation=dict(sorted(findings.cases.items())),
        stored_when_rejected=findings.stored_when_rejected[:20],
        server_errors=findings.server_errors[:20],
        transport_errors=findings.transport_errors[:20],
        service_alive=service.alive(),
        rss_mb_after=round(service.rss_mb(), 1),
        service_errors_logged=service.errors_logged(),
        **extra,
    )
    return row


def run_sync(examples: int = 200, parser_examples: int = 1000) -> Row:
    """Schemathesis on every operation, then the parsers through the webhook; one Row."""
    with _target("hostile", 50) as (service, db):
        counts = Counts(db)
        findings = Findings()
        try:
            _schemathesis(service, counts, findings, examples)
            extra = fuzz.parsers(service, counts, findings, parser_examples)
        finally:
            counts.close()
        return _row(service, findings, extra)


async def run(examples: int = 200, parser_examples: int = 1000) -> Row:
    """run_sync in a thread, for the suite's event loop."""
    return await asyncio.to_thread(run_sync, examples, parser_examples)
