"""The demo city's map: post-2025 ward names with rough centres, street names, arterials, ward outlines."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, mapping

# Former inner districts: the dense urban core where most cameras are.
CORE_DISTRICTS = frozenset({"1", "3", "4", "5", "10", "Binh Thanh", "Phu Nhuan", "Go Vap", "Tan Binh"})
_OUTER_DISTRICTS = frozenset({"Binh Chanh", "Nha Be", "Hoc Mon", "Cu Chi", "Can Gio"})
_CLIP_M = {"core": 1_500.0, "mid": 3_000.0, "outer": 9_000.0}
M_PER_DEG_LAT = 110_600.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(10.78))
ORIGIN = (10.7725, 106.6980)  # Ben Thanh market, the origin of the local metric frame


@dataclass(frozen=True)
class Ward:
    """A ward or commune with a rough centre; `former` is its pre-2025 district, or province after a colon."""

    name: str
    lat: float
    lon: float
    former: str

    @cached_property
    def code(self) -> str:
        """ASCII id part: "Phuong Ben Thanh" -> "BENTHANH"."""
        return self.name.split(" ", 1)[1].replace(" ", "").upper()

    @cached_property
    def tier(self) -> str:
        """core (former inner districts), mid (other urban districts) or outer (communes, provinces)."""
        if self.former in CORE_DISTRICTS:
            return "core"
        return "outer" if self.former in _OUTER_DISTRICTS or ":" in self.former else "mid"

    @cached_property
    def tags(self) -> dict[str, str]:
        """former_district (or former_province) tag of the cameras in this ward."""
        key, _, value = self.former.rpartition(":")
        return {f"former_{key or 'district'}": value}


WARDS: tuple[Ward, ...] = tuple(
    Ward(*row)
    for row in (
        ("Phuong Ben Thanh", 10.7725, 106.6980, "1"),
        ("Phuong Sai Gon", 10.7790, 106.7040, "1"),
        ("Phuong Tan Dinh", 10.7905, 106.6895, "1"),
        ("Phuong Cau Ong Lanh", 10.7645, 106.6935, "1"),
        ("Phuong Ban Co", 10.7700, 106.6800, "3"),
        ("Phuong Xuan Hoa", 10.7810, 106.6900, "3"),
        ("Phuong Nhieu Loc", 10.7880, 106.6770, "3"),
        ("Phuong Khanh Hoi", 10.7600, 106.6990, "4"),
        ("Phuong Vinh Hoi", 10.7585, 106.7045, "4"),
        ("Phuong Xom Chieu", 10.7565, 106.7110, "4"),
        ("Phuong Cho Quan", 10.7580, 106.6830, "5"),
        ("Phuong An Dong", 10.7575, 106.6700, "5"),
        ("Phuong Cho Lon", 10.7530, 106.6590, "5"),
        ("Phuong Vuon Lai", 10.7680, 106.6710, "10"),
        ("Phuong Dien Hong", 10.7725, 106.6640, "10"),
        ("Phuong Hoa Hung", 10.7800, 106.6740, "10"),
        ("Phuong Gia Dinh", 10.8030, 106.6960, "Binh Thanh"),
        ("Phuong Binh Thanh", 10.8100, 106.7080, "Binh Thanh"),
        ("Phuong Binh Loi Trung", 10.8170, 106.7010, "Binh Thanh"),
        ("Phuong Thanh My Tay", 10.7960, 106.7180, "Binh Thanh"),
        ("Phuong Binh Quoi", 10.8250, 106.7300, "Binh Thanh"),
        ("Phuong Phu Nhuan", 10.8000, 106.6790, "Phu Nhuan"),
        ("Phuong Duc Nhuan", 10.7990, 106.6870, "Phu Nhuan"),
        ("Phuong Cau Kieu", 10.7925, 106.6835, "Phu Nhuan"),
        ("Phuong Go Vap", 10.8380, 106.6790, "Go Vap"),
        ("Phuong Hanh Thong", 10.8230, 106.6890, "Go Vap"),
        ("Phuong An Nhon", 10.8420, 106.6660, "Go Vap"),
        ("Phuong An Hoi Dong", 10.8480, 106.6560, "Go Vap"),
        ("Phuong Thong Tay Hoi", 10.8320, 106.6620, "Go Vap"),
        ("Phuong Tan Son Hoa", 10.7960, 106.6710, "Tan Binh"),
        ("Phuong Tan Son Nhat", 10.8040, 106.6610, "Tan Binh"),
        ("Phuong Bay Hien", 10.7870, 106.6510, "Tan Binh"),
        ("Phuong Tan Hoa", 10.7930, 106.6430, "Tan Binh"),
        ("Phuong Tan Binh", 10.8040, 106.6400, "Tan Binh"),
        ("Phuong Tan Son", 10.8200, 106.6430, "Tan Binh"),
        ("Phuong Minh Phung", 10.7620, 106.6450, "11"),
        ("Phuong Phu Tho", 10.7670, 106.6540, "11"),
        ("Phuong Binh Tay", 10.7500, 106.6470, "6"),
        ("Phuong Phu Lam", 10.7480, 106.6320, "6"),
        ("Phuong Chanh Hung", 10.7420, 106.6800, "8"),
        ("Phuong Binh Dong", 10.7370, 106.6420, "8"),
        ("Phuong Tan Thuan", 10.7510, 106.7280, "7"),
        ("Phuong Tan My", 10.7360, 106.7180, "7"),
        ("Phuong Tan Phu", 10.7900, 106.6280, "Tan Phu"),
        ("Phuong Binh Tan", 10.7700, 106.6000, "Binh Tan"),
        ("Phuong An Lac", 10.7280, 106.6100, "Binh Tan"),
        ("Phuong Trung My Tay", 10.8600, 106.6200, "12"),
        ("Phuong Thoi An", 10.8750, 106.6550, "12"),
        ("Phuong Thu Duc", 10.8500, 106.7560, "Thu Duc"),
        ("Phuong Hiep Binh", 10.8350, 106.7250, "Thu Duc"),
        ("Phuong An Khanh", 10.7870, 106.7300, "Thu Duc"),
        ("Phuong Binh Trung", 10.7860, 106.7600, "Thu Duc"),
        ("Phuong Phuoc Long", 10.8150, 106.7750, "Thu Duc"),
        ("Phuong Tang Nhon Phu", 10.8450, 106.7900, "Thu Duc"),
        ("Phuong Linh Xuan", 10.8780, 106.7750, "Thu Duc"),
        ("Phuong Cat Lai", 10.7720, 106.7900, "Thu Duc"),
        ("Xa Binh Chanh", 10.6900, 106.5750, "Binh Chanh"),
        ("Xa Vinh Loc", 10.8200, 106.5700, "Binh Chanh"),
        ("Xa Binh Hung", 10.7200, 106.6700, "Binh Chanh"),
        ("Xa Nha Be", 10.6900, 106.7400, "Nha Be"),
        ("Xa Hiep Phuoc", 10.6300, 106.7500, "Nha Be"),
        ("Xa Hoc Mon", 10.8870, 106.5950, "Hoc Mon"),
        ("Xa Ba Diem", 10.8550, 106.5950, "Hoc Mon"),
        ("Xa Cu Chi", 10.9730, 106.4950, "Cu Chi"),
        ("Xa Tan An Hoi", 10.9450, 106.5300, "Cu Chi"),
        ("Xa Binh Khanh", 10.6600, 106.7700, "Can Gio"),
        ("Xa Can Gio", 10.4100, 106.9550, "Can Gio"),
        ("Phuong Di An", 10.9050, 106.7700, "province:Binh Duong"),
        ("Phuong Lai Thieu", 10.9050, 106.7000, "province:Binh Duong"),
        ("Phuong Thu Dau Mot", 10.9800, 106.6550, "province:Binh Duong"),
    )
)

STREET_NAMES: tuple[str, ...] = (
    "Le Loi",
    "Nguyen Hue",
    "Dong Khoi",
    "Ham Nghi",
    "Le Duan",
    "Hai Ba Trung",
    "Pasteur",
    "Nam Ky Khoi Nghia",
    "Dien Bien Phu",
    "Vo Van Tan",
    "Nguyen Thi Minh Khai",
    "Cach Mang Thang Tam",
    "Tran Hung Dao",
    "Nguyen Trai",
    "Ly Thuong Kiet",
    "Su Van Hanh",
    "Ba Thang Hai",
    "Hung Vuong",
    "An Duong Vuong",
    "Nguyen Tat Thanh",
    "Khanh Hoi",
    "Ton Duc Thang",
    "Xo Viet Nghe Tinh",
    "Dinh Bo Linh",
    "Bach Dang",
    "Phan Dang Luu",
    "Hoang Van Thu",
    "Phan Xich Long",
    "Nguyen Van Troi",
    "Cong Hoa",
    "Quang Trung",
    "Nguyen Oanh",
    "Phan Van Tri",
    "Le Van Sy",
    "Nguyen Kiem",
    "Kha Van Can",
    "Vo Van Ngan",
    "Huynh Tan Phat",
    "Hau Giang",
    "Au Co",
    "Luy Ban Bich",
    "Lac Long Quan",
    "Le Hong Phong",
    "Nguyen Dinh Chieu",
    "Tran Quoc Thao",
    "Ly Tu Trong",
    "Pham Ngu Lao",
    "Bui Vien",
    "Nguyen Cu Trinh",
    "Ton That Thuyet",
)

ARTERIALS: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = (
    (
        "Vo Van Kiet",
        (
            (10.7680, 106.7060),
            (10.7590, 106.6900),
            (10.7500, 106.6600),
            (10.7450, 106.6300),
            (10.7400, 106.6000),
        ),
    ),
    ("Nguyen Van Linh", ((10.7300, 106.6000), (10.7300, 106.6700), (10.7290, 106.7100), (10.7400, 106.7400))),
    ("Xa lo Ha Noi", ((10.8020, 106.7180), (10.8200, 106.7550), (10.8450, 106.7800), (10.8700, 106.8100))),
    (
        "Truong Chinh",
        (
            (10.7950, 106.6550),
            (10.8150, 106.6300),
            (10.8500, 106.6000),
            (10.9000, 106.5600),
            (10.9700, 106.5000),
        ),
    ),
    ("Cach Mang Thang Tam", ((10.7720, 106.6930), (10.7850, 106.6700), (10.7950, 106.6600))),
    ("Dien Bien Phu", ((10.7700, 106.6750), (10.7880, 106.6930), (10.8010, 106.7110))),
    ("Pham Van Dong", ((10.8270, 106.6850), (10.8300, 106.7100), (10.8450, 106.7300), (10.8600, 106.7500))),
    ("Nguyen Huu Tho", ((10.7450, 106.7000), (10.7100, 106.7000), (10.6800, 106.7200))),
    ("Kinh Duong Vuong", ((10.7500, 106.6350), (10.7400, 106.6050), (10.7150, 106.5800))),
    ("Quoc lo 13", ((10.8050, 106.7080), (10.8400, 106.7150), (10.8800, 106.7100), (10.9050, 106.7000))),
)


def to_local(lon: float, lat: float) -> tuple[float, float]:
    """Metres east and north of Ben Thanh (an equirectangular frame, ample for a synthetic city)."""
    return (lon - ORIGIN[1]) * M_PER_DEG_LON, (lat - ORIGIN[0]) * M_PER_DEG_LAT


def areas() -> dict[str, Any]:
    """Rough ward outlines: each centre's Voronoi cell clipped to a disc by tier (core small, outer large)."""
    centres = [Point(to_local(w.lon, w.lat)) for w in WARDS]
    cells = list(shapely.voronoi_polygons(MultiPoint(centres), extend_to=Point(0, 0).buffer(80_000)).geoms)
    features = []
    for ward, centre in zip(WARDS, centres, strict=True):
        cell = next(c for c in cells if c.contains(centre))
        outline = cell.intersection(centre.buffer(_CLIP_M[ward.tier], quad_segs=8))
        features.append(
            {
                "type": "Feature",
                "geometry": mapping(shapely.transform(outline, _lonlat_coords)),
                "properties": {"name": ward.name, "tier": ward.tier, **ward.tags},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _lonlat_coords(xy: np.ndarray) -> np.ndarray:
    lon, lat = ORIGIN[1] + xy[:, 0] / M_PER_DEG_LON, ORIGIN[0] + xy[:, 1] / M_PER_DEG_LAT
    return np.round(np.column_stack([lon, lat]), 7)


def line_feature(name: str, kind: str, area: str, points: list[tuple[float, float]]) -> dict[str, Any]:
    """A street as a GeoJSON LineString feature; points are (lon, lat)."""
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(p) for p in points]},
        "properties": {"name": name, "kind": kind, "area": area},
    }
