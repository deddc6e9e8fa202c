from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.config import load, load_secrets, network_warning, parse, write_secrets
from kiosk.errors import ConfigError
from tests.conftest import write_config

EXAMPLE = Path(__file__).resolve().parents[2] / "kiosk" / "kiosk.example.toml"


def test_the_example_file_documents_a_config_that_loads():
    settings = load(EXAMPLE)
    assert settings.device.id == "branch1-kiosk1"
    assert [t.name for t in settings.loyalty.tiers] == ["bronze", "silver", "gold", "platinum"]
    assert settings.readers[0].uri == "rdm6300:tty:/dev/ttyAMA0"


def test_relative_paths_are_resolved_from_the_config_files_folder(tmp_path):
    settings = load(write_config(tmp_path / "k"))
    assert settings.device.data_dir == (tmp_path / "k" / "data").resolve()
    assert settings.database_path.name == "kiosk.db"


BASE = {"device": {"id": "k1", "branch": "b1", "data_dir": "data"}}


@pytest.mark.parametrize(
    "section, values, words",
    [
        ("web", {"port": 70000}, ["web.port", "70000", "<= 65535"]),
        ("web", {"language": "de"}, ["web.language", "'de'", "'fa', 'ar', 'en'"]),
        ("web", {"idle_timeout_s": "soon"}, ["web.idle_timeout_s", "'soon'", "integer"]),
        ("web", {"colour": "blue"}, ["web.colour", "allowed keys"]),
        ("members", {"default_region": "XX"}, ["members.default_region", "'XX'", "two-letter"]),
        ("loyalty", {"rial_per_point": 0}, ["rial_per_point", "0", "at least 1"]),
        ("loyalty", {"birthday_mode": "week"}, ["birthday_mode", "week", "month"]),
        ("cloud", {"url": "ftp://x"}, ["cloud.url", "ftp://x", "http://"]),
        ("bogus", {"x": 1}, ["[bogus]", "allowed sections"]),
        ("readers", [{"id": "a"}], ["readers[0].uri", "rdm6300:tty"]),
        ("readers", [{"uri": "emulated:rdm6300", "debounce_s": -1}], ["readers[0].debounce_s", "-1", "from 0.0"]),
    ],
)
def test_a_bad_value_is_refused_naming_the_key_the_value_and_what_is_allowed(tmp_path, section, values, words):
    raw = {**BASE, section: values}
    with pytest.raises(ConfigError) as err:
        parse(raw, tmp_path / "kiosk.toml")
    for word in words:
        assert word in str(err.value)


def test_a_config_without_a_device_id_is_refused():
    with pytest.raises(ConfigError, match="device.id"):
        parse({"device": {"branch": "b"}}, Path("/etc/kiosk/kiosk.toml"))


def test_tiers_out_of_order_are_refused(tmp_path):
    config = write_config(tmp_path / "k", extra="""
[[loyalty.tiers]]
name = "bronze"
min_points = 0
multiplier_percent = 100
[[loyalty.tiers]]
name = "gold"
min_points = 0
multiplier_percent = 125
""")
    with pytest.raises(ConfigError, match="lowest to highest"):
        load(config)


def test_a_missing_file_and_broken_toml_say_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[device\nid=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad)


def test_secrets_are_written_0600_and_a_readable_secrets_file_is_refused(tmp_path):
    path = tmp_path / "secrets.toml"
    write_secrets(path, {"chain_secret": "ab" * 32})
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_secrets(path).chain_secret == bytes.fromhex("ab" * 32)
    assert "ab" * 4 not in repr(load_secrets(path))
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secrets(path)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::", "kiosk.local"])
def test_a_web_host_beyond_loopback_is_refused_unless_open_to_network_is_set(tmp_path, host):
    with pytest.raises(ConfigError, match=r"web.open_to_network = true .*reaches /pos/v1 only"):
        parse({**BASE, "web": {"host": host}}, tmp_path / "kiosk.toml")
    settings = parse({**BASE, "web": {"host": host, "open_to_network": True}}, tmp_path / "kiosk.toml")
    assert network_warning(settings.web).startswith(f"web.host = {host!r} with open_to_network")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_a_loopback_web_host_loads_without_a_warning(tmp_path, host):
    settings = parse({**BASE, "web": {"host": host}}, tmp_path / "kiosk.toml")
    assert network_warning(settings.web) is None


def test_the_sign_up_time_out_is_read_from_the_config_and_a_bad_one_names_its_key(tmp_path):
    settings = load(write_config(tmp_path / "ok", "[enrollment]\ntimeout_s = 90\n"))
    assert settings.enrollment.timeout_s == 90
    assert load(write_config(tmp_path / "default")).enrollment.timeout_s == 60
    with pytest.raises(ConfigError, match="enrollment.timeout_s"):
        load(write_config(tmp_path / "bad", "[enrollment]\ntimeout_s = 5\n"))
