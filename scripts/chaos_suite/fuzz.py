"""The PIDF-LO and AML parsers through the signed webhook: mutated documents, XML bombs, external entities."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos_suite.common import ROOT, Service, signed

if TYPE_CHECKING:
    from chaos_suite.hostile import Counts, Findings

PAYLOADS = ROOT / "tests" / "payloads"
XML_PIECES = [
    "<",
    ">",
    "</",
    "/>",
    '"',
    "&",
    "&amp;",
    "<!DOCTYPE x [",
    "<!ENTITY e 'x'>",
    "]>",
    "&e;",
    "<![CDATA[",
    "]]>",
    "gml:pos",
    "gs:radius",
    "uom=",
    "srsName=",
    "EPSG::4326",
    "-",
    ".",
    "e",
    "NaN",
    "1e999",
    "90",
    "180",
    "0",
    " ",
    "\n",
    "\x00",
    "Ω",
]
SMS_PIECES = [
    'A"ML=1;',
    'A"ML=2;',
    "lt=",
    "lg=",
    "lo=",
    "rd=",
    "lc=",
    "top=",
    "et=",
    "ml=",
    ";",
    "=",
    ",",
    "+",
    "-",
    ".",
    "N",
    "9",
    "0",
    "99999999999999",
    "e9",
    "\u0663",
]


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    for at, cut, insert in edits:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + cut :]
    return text


def _mutated(seeds: list[str], pieces: list[str]) -> st.SearchStrategy[str]:
    insert = st.lists(st.sampled_from(pieces) | st.text(max_size=4), max_size=4).map("".join)
    edits = st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 40), insert), min_size=1, max_size=5)
    return st.builds(_mutate, st.sampled_from(seeds), edits)


def _numbers() -> st.SearchStrategy[str]:
    return (
        st.floats(allow_nan=True, allow_infinity=True).map(repr)
        | st.integers().map(str)
        | st.text(max_size=8)
    )


def _circle(lat: str, lon: str, radius: str, uom: str) -> str:
    return (
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" '
        'entity="pres:x@y">'
        '<tuple id="t"><status><gp:geopriv><gp:location-info><gs:Circle srsName="urn:ogc:def:crs:EPSG::4326">'
        f'<gml:pos>{lat} {lon}</gml:pos><gs:radius uom="{uom}">{radius}</gs:radius></gs:Circle>'
        "</gp:location-info></gp:geopriv></status></tuple></presence>"
    )


def _sms(lat: str, lon: str, radius: str, confidence: str) -> str:
    return f'A"ML=1;lt={lat};lg={lon};rd={radius};top=20261126131501;lc={confidence};pm=G;ml=129'


def locations() -> st.SearchStrategy[dict[str, Any]]:
    """Webhook `location` values in the PIDF-LO, AML SMS and AML HTTPS forms, mostly wrong."""
    xml = [p.read_text() for p in sorted((PAYLOADS / "pidf_lo").glob("*.xml")) if "attack" not in p.name]
    sms = [p.read_text().strip() for p in sorted((PAYLOADS / "aml").glob("*.txt"))]
    https = [json.loads(p.read_text()) for p in sorted((PAYLOADS / "aml").glob("*.json"))]
    uom = st.sampled_from(["urn:ogc:def:uom:EPSG::9001", "urn:ogc:def:uom:EPSG::9102", "furlong", ""])
    json_values = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.one_of(
        _mutated(xml, XML_PIECES).map(lambda d: {"pidf_lo": d}),
        st.builds(_circle, _numbers(), _numbers(), _numbers(), uom).map(lambda d: {"pidf_lo": d}),
        _mutated(sms, SMS_PIECES).map(lambda d: {"aml": d}),
        st.builds(_sms, _numbers(), _numbers(), _numbers(), _numbers()).map(lambda d: {"aml": d}),
        st.builds(
            lambda base, key, value: {"aml_https": {**base, key: value}},
            st.sampled_from(https),
            st.sampled_from(sorted({k for h in https for k in h})),
            json_values,
        ),
    )


class Canary:
    """A loopback listener that counts connections: an external entity that reaches it was fetched."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.hits = 0
        self.sock.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        """Stops listening."""
        self.stopped.set()
        self.thread.join(2)
        self.sock.close()


def bombs(canary: int) -> list[str]:
    """XML bombs and external-entity documents: the project's attack payloads and some aimed at the canary."""
    docs = [p.read_text() for p in sorted((PAYLOADS / "pidf_lo").glob("attack_*.xml"))]
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 12))
    url = f"http://127.0.0.1:{canary}"
    point = _circle("10.77", "106.70", "35", "urn:ogc:def:uom:EPSG::9001")
    docs += [
        f'<?xml version="1.0"?><!DOCTYPE presence [<!ENTITY l0 "ha">{laughs}]>'
        + point.replace("35", "&l11;"),
        f'<?xml version="1.0"?><!DOCTYPE presence [<!ENTITY x SYSTEM "{url}/entity">]>'
        + point.replace("35", "&x;"),
        f'<?xml version="1.0"?><!DOCTYPE presence SYSTEM "{url}/dtd">' + point,
        f'<?xml version="1.0"?><!DOCTYPE presence [<!ENTITY % p SYSTEM "{url}/param"> %p;]>' + point,
        point.replace(
            "<gs:Circle",
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}/xi"/><gs:Circle',
        ),
        point.replace("<tuple", "<tuple" + " a=''" * 20000, 1),
        "<a>" * 50000 + "</a>" * 50000,
    ]
    return docs


def parsers(service: Service, counts: Counts, findings: Findings, examples: int) -> dict[str, Any]:
    """Posts fuzzed locations and bombs as calls; every answer judged; figures for the report."""
    session = requests.Session()
    ids = itertools.count()
    slowest = 0.0

    def post(label: str, location: dict[str, Any]) -> None:
        nonlocal slowest
        call = {
            "call_id": f"fuzz-{next(ids)}",
            "hotline": "113",
            "received_at": "2026-11-26T20:15:03+07:00",
            "caller": {"number": "+84901234567"},
            "location": location,
        }
        body = json.dumps(call).encode()
        before, started = counts.now(), time.monotonic()
        try:
            response = session.post(service.url + "/v1/calls", data=body, headers=signed(body), timeout=30)
        except requests.RequestException as exc:
            findings.transport_errors.append(f"{label}: {exc!r}"[:300])
            return
        slowest = max(slowest, time.monotonic() - started)
        findings.judge(label, response.status_code, before, counts.now(), response.text)

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(location=locations())
    def probe(location: dict[str, Any]) -> None:
        post(f"parser {next(iter(location))}", location)

    probe()
    canary = Canary()
    try:
        for doc in bombs(canary.port):
            post("xml bomb / external entity", {"pidf_lo": doc})
    finally:
        canary.close()
    return {"slowest_parser_answer_ms": round(slowest * 1000, 1), "external_entity_fetches": canary.hits}
