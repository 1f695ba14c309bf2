"""Settings: documented, typed, read from CALLSIGHT_* variables and TOML."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dispatch.settings import PROJECT_ROOT, Settings


def test_every_setting_is_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"CALLSIGHT_{name.upper()}" not in readme]
    assert missing == []


def test_every_setting_has_a_description() -> None:
    assert [n for n, f in Settings.model_fields.items() if not f.description] == []


def test_environment_and_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "callsight.toml"
    config.write_text('max_cameras = 7\nmetric_crs = "EPSG:3405"\n')
    monkeypatch.setenv("CALLSIGHT_CONFIG", str(config))
    monkeypatch.setenv("CALLSIGHT_PORT", "9999")
    monkeypatch.setenv("CALLSIGHT_WEBHOOK_SECRETS", "a=s3cr3t-alpha, b=s3cr3t-beta")
    settings = Settings()
    assert (settings.port, settings.max_cameras, settings.metric_srid) == (9999, 7, 3405)
    assert settings.senders == {"a": b"s3cr3t-alpha", "b": b"s3cr3t-beta"}
    assert "s3cr3t" not in repr(settings)


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSIGHT_MATCH_CONFIDENCE", "1.5")
    with pytest.raises(ValidationError):
        Settings()


def test_generated_secrets_are_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).token_key
    assert first == Settings(data_dir=tmp_path).token_key
    assert (tmp_path / "token_secret").stat().st_mode & 0o077 == 0
