"""CSV imports: header columns, streams and tags columns, booleans, line numbers, whole-file errors."""

from __future__ import annotations

import pytest

from dispatch.cameras.importer import ImportFormatError, parse_import
from tests.unit.cameras.helpers import PAYLOADS, by_id, only_rejection


def csv(text: str) -> bytes:
    """CSV bytes from an indented literal."""
    return "\n".join(line.strip() for line in text.strip().splitlines()).encode() + b"\n"


def test_sample_file() -> None:
    batch = parse_import((PAYLOADS / "registry.csv").read_bytes(), "text/csv")
    assert batch.rejected == []
    assert [index for index, _ in batch.cameras] == [2, 3, 4]  # CSV line numbers, the header is line 1
    cholon, saigon, banco = (camera for _, camera in batch.cameras)
    assert (cholon.lat, cholon.lon, cholon.heading_deg, cholon.fov_deg) == (10.753, 106.659, 90, 75)
    assert (cholon.connected, cholon.public, cholon.quality) == (False, True, "analog")
    assert cholon.tags == {"former_district": "5"}
    assert saigon.name == "Dong Khoi / Ly Tu Trong, 43"
    assert saigon.lat == pytest.approx(10.7769, abs=1e-7) and saigon.lon == pytest.approx(106.7009, abs=1e-7)
    assert (saigon.kind, saigon.pan_min_deg, saigon.pan_max_deg, saigon.status) == ("ptz", 300, 60, "offline")
    assert (saigon.connected, saigon.public) == (True, False)
    assert saigon.streams.rtsp == "rtsp://10.20.0.43/s1" and saigon.streams.path == "HCM-SAIGON-00043"
    assert (banco.kind, banco.fov_deg, banco.range_m, banco.height_m, banco.name) == ("dome", 360, 40, 6, "")


def test_csv_is_sniffed_without_a_content_type() -> None:
    batch = parse_import((PAYLOADS / "registry.csv").read_bytes(), "")
    assert len(batch.cameras) == 3


@pytest.mark.parametrize("value", ["true", "True", "1", "yes", "YES", "on"])
def test_true_values(value: str) -> None:
    batch = parse_import(csv(f"camera_id,lat,lon,connected\nA,10.7,106.7,{value}"), "text/csv")
    assert by_id(batch)["A"].connected is True


@pytest.mark.parametrize("value", ["false", "0", "no", "No"])
def test_false_values(value: str) -> None:
    batch = parse_import(csv(f"camera_id,lat,lon,public\nA,10.7,106.7,{value}"), "text/csv")
    assert by_id(batch)["A"].public is False


def test_tags_json_column_and_tag_columns_merge() -> None:
    data = csv("""
        camera_id;lat;lon;tags;tag:former_district;streams_path
        A;10.7;106.7;"{""vendor"": ""Hikvision""}";1;gw/a
    """)
    camera = by_id(parse_import(data, "text/csv"))["A"]
    assert camera.tags == {"vendor": "Hikvision", "former_district": "1"}
    assert camera.streams.path == "gw/a"


def test_tab_separated_with_bom_and_crlf() -> None:
    data = "\ufeffcamera_id\tlat\tlon\r\nA\t10.7\t106.7\r\n".encode()
    assert by_id(parse_import(data, "text/csv"))["A"].lat == 10.7


def test_utf16_spreadsheet_export() -> None:
    data = "camera_id,name,lat,lon\nA,Ngã tư Phú Nhuận,10.7,106.7\n".encode("utf-16")
    assert by_id(parse_import(data, "text/csv"))["A"].name == "Ngã tư Phú Nhuận"


def test_line_numbers_count_blank_lines_and_quoted_newlines() -> None:
    data = b'camera_id,name,lat,lon\n\nA,"two\nlines",10.7,106.7\nB,,10.7,106.7\n'
    batch = parse_import(data, "text/csv")
    assert [(index, camera.camera_id) for index, camera in batch.cameras] == [(3, "A"), (5, "B")]


def test_row_with_the_wrong_number_of_fields() -> None:
    rejection = only_rejection(parse_import(b"camera_id,lat,lon\nA,10.7\n", "text/csv"))
    assert (rejection.index, rejection.camera_id) == (2, "A")
    assert "2 fields but the header has 3" in rejection.reason


def test_bad_tags_json_is_rejected() -> None:
    rejection = only_rejection(parse_import(b"camera_id,lat,lon,tags\nA,10.7,106.7,[1]\n", "text/csv"))
    assert rejection.reason.startswith("tags: '[1]' is not a JSON object")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"camera_id,lat,lon,heading\nA,1,2,3\n", "column 4 'heading' is not a camera field"),
        (b"name,lat,lon\nA,1,2\n", "no camera_id column"),
        (b"camera_id,lat,lat\nA,1,2\n", "'lat' appears more than once"),
        (b"\xe9camera_id\n", "not UTF-8"),
        (b"camera_id,name\nA," + b"x" * 200_000 + b"\n", "CSV line 2: field larger than field limit"),
    ],
)
def test_unreadable_csv(data: bytes, words: str) -> None:
    with pytest.raises(ImportFormatError, match=words):
        parse_import(data, "text/csv")
