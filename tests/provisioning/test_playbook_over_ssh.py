"""The playbook, run for real over SSH by `kioskctl provision`, into a directory standing in
for a fresh Raspberry Pi: what lands, with which owners and modes, and that a second run
changes nothing.

Steps that need a booted Pi (apt, systemctl start, reboot) skip themselves with a reason in
the output because kiosk_root is not /. systemd cannot start the service here, so before the
health check the test starts the installed app from the target itself, with the rendered
config, as kiosk.service would.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.gpio.feedback import feedback_from_config
from kiosk.config import load as load_config
from kiosk.config import load_secrets

from .conftest import (
    ReferenceCloud,
    INVENTORY,
    WORKTREE,
    SshServer,
    build_wheel,
    make_device_root,
)
from tests.support.ports import refusing_port

# Several playbook runs over SSH: about 2 minutes on an idle 2-core machine, more under load.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# The cashier-side kiosk: its RDM6300 reader URI is one the drivers open today.
HOST = "kiosk-tajrish-2"
RECAP = re.compile(rf"^{HOST}\s+:\s+(.*)$", re.MULTILINE)


@dataclass
class Run:
    returncode: int
    output: str

    def recap(self) -> dict[str, int]:
        match = RECAP.search(self.output)
        assert match, self.output
        return {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}


@dataclass
class Target:
    root: Path
    web_port: int
    ssh: SshServer
    secrets: Path
    vault_password: Path
    work: Path

    def provision(self, wheel: Path, *extra: str, secrets: bool = True) -> Run:
        connection = {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.ssh.port,
            "ansible_user": self.ssh.user,
            "ansible_ssh_private_key_file": str(self.ssh.client_key),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={self.ssh.known_hosts} "
                                       "-o StrictHostKeyChecking=yes",
            "ansible_python_interpreter": "/usr/bin/python3",
            "kiosk_become": False,
            "kiosk_root": str(self.root),
            "kiosk_web_port": self.web_port,
            # The test machine has no PyPI: the target venv reuses this venv's packages.
            "kiosk_python": sys.executable,
            "kiosk_pip_no_deps": True,
            "kiosk_venv_extra_paths": [_site_packages()],
            "kiosk_register": False,
            "kiosk_healthcheck_retries": 10,
            "kiosk_healthcheck_delay_s": 1,
        }
        argv = [sys.executable, "-m", "appliance.cli.provision",
                "--inventory", str(INVENTORY), "--branch", "tajrish", "--limit", HOST,
                "--wheel", str(wheel), "-e", json.dumps(connection)]
        if secrets:
            argv += ["--secrets", str(self.secrets),
                     "--vault-password-file", str(self.vault_password)]
        argv += list(extra)
        env = dict(
            os.environ,
            ANSIBLE_HOME=str(self.work / "ansible-home"),
            ANSIBLE_LOCAL_TEMP=str(self.work / "ansible-local"),
            ANSIBLE_REMOTE_TEMP=str(self.work / "ansible-remote"),
            ANSIBLE_SSH_CONTROL_PATH_DIR=str(self.ssh.control_dir),
            ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_NOCOLOR="1",
        )
        result = subprocess.run(argv, cwd=WORKTREE, env=env, capture_output=True, text=True,
                                timeout=500)
        return Run(result.returncode, result.stdout + result.stderr)


def _site_packages() -> str:
    import sysconfig

    return sysconfig.get_path("purelib")


class RunningKiosk:
    """The installed app, started from the target the way kiosk.service would start it."""

    def __init__(self, target: Target) -> None:
        env_file = (target.root / "etc/kiosk/kiosk.env").read_text()
        config = re.search(r"^KIOSK_CONFIG=(.*)$", env_file, re.MULTILINE).group(1)
        self.log_path = target.work / "kiosk.log"
        self.log = open(self.log_path, "wb")
        # No GPIO here: the feedback LEDs from the inventory get gpiozero's mock pins.
        self.process = subprocess.Popen(
            [str(target.root / "opt/kiosk/venv/bin/kiosk"), "--config", config],
            stdout=self.log, stderr=subprocess.STDOUT,
            env=dict(os.environ, GPIOZERO_PIN_FACTORY="mock"))
        try:
            self._wait_until_healthy(target.web_port)
        except BaseException:
            self.close()
            raise

    def _wait_until_healthy(self, port: int) -> None:
        deadline = time.monotonic() + 60
        url = f"http://127.0.0.1:{port}/healthz"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("the installed kiosk exited: " + self.log_path.read_text())
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"the installed kiosk never answered {url}: " + self.log_path.read_text())

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.log.close()


@dataclass
class Provisioned:
    target: Target
    first: Run
    second: Run
    wheel: Path


@pytest.fixture(scope="module")
def provisioned(ssh_server, wheel, secrets_file, tmp_path_factory):
    work = tmp_path_factory.mktemp("provision")
    secrets, vault_password = secrets_file
    # The kiosk's port is held, bound and not listening, through the first run (minutes) and let go only when the
    # kiosk is about to bind it: a port picked and released at once could be another test worker's by then.
    with contextlib.ExitStack() as held:
        web_port = held.enter_context(refusing_port())
        target = Target(make_device_root(work / "device"), web_port, ssh_server, secrets, vault_password, work)
        # The health check waits for a running kiosk, which systemd would start on a device.
        first = target.provision(wheel, "--skip-tags", "healthcheck")
        assert first.returncode == 0, first.output
    kiosk = RunningKiosk(target)
    try:
        second = target.provision(wheel)
        yield Provisioned(target, first, second, wheel)
    finally:
        kiosk.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _account(root: Path, db: str, name: str) -> list[str]:
    for line in (root / "etc" / db).read_text().splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    raise AssertionError(f"{name} not in {db}")


def test_the_wrapper_prints_the_playbook_run_it_makes(provisioned):
    first_line = provisioned.first.output.splitlines()[0]
    assert first_line.startswith("$ ") and "ansible-playbook -i" in first_line
    assert f"--limit 'tajrish:&{HOST}'" in first_line and "site.yml" in first_line


def test_the_service_and_browser_users_land_in_the_right_groups(provisioned):
    root = provisioned.target.root
    kiosk = _account(root, "passwd", "kiosk")
    assert kiosk[5:] == ["/var/lib/kiosk", "/usr/sbin/nologin"]
    for group in ("dialout", "gpio", "input", "video"):
        assert "kiosk" in _account(root, "group", group)[3].split(","), group
    for group in ("video", "render", "input"):
        assert "kiosk-ui" in _account(root, "group", group)[3].split(","), group
    assert "kiosk-ui" not in _account(root, "group", "dialout")[3].split(",")
    # The host's own account database is untouched.
    assert "kiosk:" not in Path("/etc/passwd").read_text()


def test_config_is_rendered_from_the_inventory_and_readable_only_by_the_service(provisioned):
    root = provisioned.target.root
    uid = int(_account(root, "passwd", "kiosk")[2])
    gid = int(_account(root, "group", "kiosk")[2])
    config_path = root / "etc/kiosk/kiosk.toml"
    # The kiosk's own loader accepts it: every section and key is one it knows.
    settings = load_config(config_path)
    assert settings.device.id == HOST and settings.device.branch == "tehran-tajrish"
    assert settings.device.timezone == "Asia/Tehran"
    assert settings.device.data_dir == root / "var/lib/kiosk"
    assert settings.device.secrets_file == root / "etc/kiosk/secrets.toml"
    assert [(r.uri, r.id) for r in settings.readers] == [("rdm6300:tty:/dev/ttyAMA0", "reader1")]
    assert (settings.web.host, settings.web.port, settings.web.language,
            settings.web.idle_timeout_s) == ("127.0.0.1", provisioned.target.web_port, "fa", 20)
    assert settings.members.default_region == "IR"
    assert settings.feedback == {"leds": "rgb", "rgb_pins": [17, 27, 22], "buzzer": "none"}
    feedback_from_config(settings.feedback, pin_factory=MockFactory()).close()
    assert settings.cloud.url == "https://loyalty.example-chain.invalid"
    assert (config_path.stat().st_uid, config_path.stat().st_gid) == (0, gid)
    assert _mode(config_path) == 0o640
    assert _mode(root / "etc/kiosk") == 0o750
    data = root / "var/lib/kiosk"
    assert (data.stat().st_uid, _mode(data)) == (uid, 0o750)


def test_secrets_land_0600_owned_by_the_service_user_and_never_in_the_output(provisioned):
    root = provisioned.target.root
    secrets = root / "etc/kiosk/secrets.toml"
    assert _mode(secrets) == 0o600
    assert secrets.stat().st_uid == int(_account(root, "passwd", "kiosk")[2])
    values = tomllib.loads(secrets.read_text())
    assert values == {"chain_secret": "c" * 64,
                      "staff_pin_hash": "pbkdf2_sha256$600000$salt$hash\"with quote"}
    loaded = load_secrets(secrets)
    assert loaded.chain_secret == bytes.fromhex("c" * 64)
    for run in (provisioned.first, provisioned.second):
        assert "c" * 64 not in run.output and "pbkdf2_sha256" not in run.output


def test_units_and_the_per_device_screen_drop_in_land_enabled(provisioned):
    root = provisioned.target.root
    units = root / "etc/systemd/system"
    for unit in ("kiosk.service", "kiosk-ui.service"):
        assert (units / unit).read_text() == (WORKTREE / "systemd" / unit).read_text()
        assert _mode(units / unit) == 0o644
    assert (units / "multi-user.target.wants/kiosk.service").is_symlink()
    assert (units / "graphical.target.wants/kiosk-ui.service").is_symlink()
    assert os.readlink(units / "default.target").endswith("graphical.target")
    drop_in = (units / "kiosk-ui.service.d/10-device.conf").read_text()
    assert f"KIOSK_URL=http://127.0.0.1:{provisioned.target.web_port}/" in drop_in
    assert "KIOSK_WINDOW_SIZE=800,480" in drop_in
    env = (root / "etc/kiosk/kiosk.env").read_text()
    assert f"KIOSK_SECRETS_FILE={root}/etc/kiosk/secrets.toml" in env
    # The screen's seat comes from seatd: no logind session (and no PAM service) for it.
    assert not (root / "etc/pam.d/kiosk-ui").exists()


def test_firmware_turns_on_uart_and_spi_and_frees_the_serial_console(provisioned):
    firmware = provisioned.target.root / "boot/firmware"
    config = firmware / "config.txt"
    lines = config.read_text().splitlines()
    assert "enable_uart=1" in lines and "dtparam=spi=on" in lines
    assert "#dtparam=spi=on" not in lines and "dtparam=audio=on" in lines
    cmdline = (firmware / "cmdline.txt").read_text()
    assert "console=serial0" not in cmdline and "console=tty1" in cmdline
    assert cmdline.count("consoleblank=0") == 1 and cmdline.count("\n") == 1


def test_a_firmware_change_leaves_a_reboot_pending_that_later_runs_still_see(provisioned):
    # Written when the firmware files change, not by a handler a failed run would drop: the
    # second run changed no firmware file and still knows the device has to reboot.
    marker = provisioned.target.root / "run/reboot-required"
    assert "System restart required" in marker.read_text()
    assert "firmware settings changed on kiosk-tajrish-2" in provisioned.second.output
    assert "(reboot it yourself)" in provisioned.second.output


def test_the_app_wheel_is_installed_into_its_own_venv(provisioned):
    python = provisioned.target.root / "opt/kiosk/venv/bin/python"
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('loyalty-kiosk'))"],
        capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert version == provisioned.wheel.name.split("-")[1]
    assert (provisioned.target.root / "opt/kiosk/wheels" / provisioned.wheel.name).is_file()


def test_device_only_steps_say_why_they_were_skipped(provisioned):
    output = provisioned.first.output
    assert "skipping apt: kiosk_manage_packages is false" in output
    assert "skipping systemctl start kiosk kiosk-ui" in output
    assert "skipping cloud registration: kiosk_register is false" in output


def test_a_second_run_changes_nothing_and_passes_the_health_check(provisioned):
    first, second = provisioned.first.recap(), provisioned.second.recap()
    assert first["changed"] > 10 and first["failed"] == 0
    assert second["changed"] == 0 and second["failed"] == 0, provisioned.second.output
    assert "is healthy" in provisioned.second.output
    assert f"{HOST} is healthy" in provisioned.second.output
    assert "kiosk-tajrish-2" in provisioned.second.output.split("is healthy:")[1]


def test_a_check_run_of_a_provisioned_device_reports_nothing_to_change(provisioned):
    config = provisioned.target.root / "etc/kiosk/kiosk.toml"
    before = config.stat().st_mtime_ns
    run = provisioned.target.provision(provisioned.wheel, "--check")
    assert run.returncode == 0, run.output
    assert "--check --diff" in run.output.splitlines()[0]
    assert run.recap()["changed"] == 0, run.output
    assert config.stat().st_mtime_ns == before


def test_the_health_check_fails_the_run_when_the_kiosk_does_not_answer(provisioned):
    with refusing_port() as dead:
        run = provisioned.target.provision(
            provisioned.wheel, "--tags", "healthcheck",
            "-e", f"kiosk_healthcheck_url=http://127.0.0.1:{dead}/healthz",
            "-e", "kiosk_healthcheck_retries=1", "-e", "kiosk_healthcheck_delay_s=0")
    assert run.returncode != 0
    assert "is not answering" in run.output and "journalctl -u kiosk" in run.output


def test_an_upgrade_installs_the_new_wheel_and_keeps_the_data_directory(provisioned, tmp_path):
    root = provisioned.target.root
    ledger = root / "var/lib/kiosk/ledger.sqlite"
    ledger.write_bytes(b"the shop's ledger")
    newer = build_wheel(WORKTREE, tmp_path, version="99.0.0")
    # An upgrade is the app role with a newer wheel (the full run is covered above).
    run = provisioned.target.provision(newer, "--tags", "app")
    assert run.returncode == 0, run.output
    assert run.recap()["changed"] >= 2
    # Read the device venv's own metadata: importlib would also see the test runner's
    # packages, which a test target shares through kiosk_venv_extra_paths.
    installed = sorted(p.name for p in (root / "opt/kiosk/venv/lib").glob("python3*/site-packages/loyalty_kiosk-*.dist-info"))
    assert installed == ["loyalty_kiosk-99.0.0.dist-info"]
    assert ledger.read_bytes() == b"the shop's ledger"


def test_a_run_without_the_secrets_file_stops_before_touching_the_device(provisioned, tmp_path):
    before = (provisioned.target.root / "etc/kiosk/kiosk.toml").stat().st_mtime_ns
    run = provisioned.target.provision(provisioned.wheel, secrets=False)
    assert run.returncode != 0
    assert "kiosk_staff_pin_hash are missing or still the REPLACE placeholders" in run.output
    assert (provisioned.target.root / "etc/kiosk/kiosk.toml").stat().st_mtime_ns == before


def test_the_example_secrets_file_with_its_placeholders_is_refused(provisioned):
    example = WORKTREE / "provisioning" / "secrets.example.yml"
    run = provisioned.target.provision(provisioned.wheel, "-e", f"@{example}", "--tags", "config")
    assert run.returncode != 0
    assert "still the REPLACE placeholders" in run.output


def test_ssh_is_really_used_with_host_key_checking(provisioned):
    # A wrong known_hosts entry must make the run fail: the test is not on a local connection.
    known_hosts = provisioned.target.ssh.known_hosts
    saved = known_hosts.read_text()
    try:
        other = provisioned.target.work / "other_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
                       check=True, timeout=30)
        known_hosts.write_text(saved.split(" ")[0] + " " + Path(f"{other}.pub").read_text())
        for control in provisioned.target.ssh.control_dir.glob("*"):
            subprocess.run(["ssh", "-o", f"ControlPath={control}", "-O", "exit", "kiosk"],
                           capture_output=True, timeout=10)
        run = provisioned.target.provision(provisioned.wheel, "--tags", "app")
        assert run.returncode != 0
        assert "UNREACHABLE" in run.output or "Host key verification failed" in run.output
    finally:
        known_hosts.write_text(saved)


@pytest.fixture
def reference_cloud(tmp_path):
    cloud = ReferenceCloud(tmp_path)
    yield cloud
    cloud.close()


def test_registration_with_the_reference_cloud_runs_once_and_rotates_on_request(
        provisioned, reference_cloud):
    root = provisioned.target.root
    credentials = root / "var/lib/kiosk/cloud-device.json"
    kiosk_uid = int(_account(root, "passwd", "kiosk")[2])

    def register(token: str, *extra: str) -> Run:
        # Tokens are secrets: from a file (-e @FILE), never on the printed command line.
        tokens = reference_cloud.db.parent / "tokens.json"
        tokens.write_text(json.dumps({"kiosk_register": True, "kiosk_cloud_url": reference_cloud.url,
                                      "kiosk_registration_tokens": {HOST: token}}))
        return provisioned.target.provision(provisioned.wheel, "--tags", "register",
                                            "-e", f"@{tokens}", *extra)

    try:
        token = reference_cloud.cli("token", "create", "--branch", "tehran-tajrish").strip()
        first = register(token)
        assert first.returncode == 0, first.output
        assert first.recap()["changed"] >= 1 and token not in first.output
        device = json.loads(credentials.read_text())
        assert device["branch"] == "tehran-tajrish" and device["device_key"]
        assert (credentials.stat().st_uid, _mode(credentials)) == (kiosk_uid, 0o600)
        assert device["device_id"] in reference_cloud.cli("devices")

        again = register("an-already-used-token")
        assert again.returncode == 0 and again.recap()["changed"] == 0, again.output
        config_run = provisioned.target.provision(provisioned.wheel, "--tags", "config")
        assert config_run.returncode == 0 and json.loads(credentials.read_text()) == device

        rotated_token = reference_cloud.cli("token", "create", "--branch", "tehran-tajrish").strip()
        rotated = register(rotated_token, "-e", "kiosk_register_force=true")
        assert rotated.returncode == 0, rotated.output
        new_device = json.loads(credentials.read_text())
        assert new_device["device_key"] != device["device_key"]
        assert (credentials.stat().st_uid, _mode(credentials)) == (kiosk_uid, 0o600)
    finally:
        credentials.unlink(missing_ok=True)


def test_a_token_the_cloud_refuses_fails_the_run_without_printing_the_token(
        provisioned, reference_cloud):
    tokens = reference_cloud.db.parent / "tokens.json"
    tokens.write_text(json.dumps({"kiosk_register": True, "kiosk_cloud_url": reference_cloud.url,
                                  "kiosk_registration_tokens": {HOST: "not-a-token-the-cloud-issued"}}))
    run = provisioned.target.provision(provisioned.wheel, "--tags", "register", "-e", f"@{tokens}")
    assert run.returncode != 0
    assert "kioskctl register failed" in run.output
    assert "not-a-token-the-cloud-issued" not in run.output


def test_a_device_without_a_key_or_a_token_stops_with_how_to_get_one(provisioned):
    # The chain's secrets file has a token for kiosk-tajrish-1 only.
    run = provisioned.target.provision(provisioned.wheel, "--tags", "register",
                                       "-e", "kiosk_register=true")
    assert run.returncode != 0
    assert f"{HOST} has no device key yet and no one-time token" in run.output
    assert "issue a token for branch tehran-tajrish" in run.output


def test_the_installed_kiosk_unit_verifies_against_the_provisioned_tree(provisioned):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found: apt-get install systemd")
    # ExecStart= and EnvironmentFile= resolve inside the target: the venv's real kiosk script.
    result = subprocess.run([analyze, "verify", f"--root={provisioned.target.root}", "--man=no",
                             "kiosk.service"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_the_runs_are_free_of_ansible_warnings_and_deprecations(provisioned):
    for run in (provisioned.first, provisioned.second):
        noisy = [line for line in run.output.splitlines()
                 if "[WARNING]" in line or "DEPRECATION" in line]
        assert noisy == [], "\n".join(noisy)
