"""A real OpenSSH server on loopback and a directory standing in for a fresh device.

The playbook runs over SSH exactly as it does against a Pi; only kiosk_root differs, so
everything lands in a directory the test owns. The server is a non-daemon child with a
throwaway host key and a throwaway client key, killed at the end together with every
connection it spawned.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ports import listening_ports
from tests.support.procs import children_of

WORKTREE = Path(__file__).resolve().parents[2]
INVENTORY = WORKTREE / "provisioning" / "inventories" / "example-chain"
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
VAULT_PASSWORD = "throwaway vault password for the provisioning tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SshServer:
    port: int
    user: str
    client_key: Path
    known_hosts: Path
    control_dir: Path


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    if not os.path.exists(SSHD) or shutil.which("ssh") is None:
        pytest.skip("OpenSSH server not installed: apt-get install openssh-server")
    if os.geteuid() != 0:
        pytest.skip("provisioning a target root sets file owners to the kiosk user: run as root")
    base = tmp_path_factory.mktemp("ssh")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / name)],
                       check=True, timeout=30)
    shutil.copy(base / "client_key.pub", base / "authorized_keys")
    # sshd cannot bind port 0, so a free port is probed and sshd binds it a moment later; another
    # xdist worker may take it in between, so a start that fails is tried again on a new port.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd refuses to start without it
    log = open(base / "sshd.log", "wb")
    control_dir = base / "cp"
    control_dir.mkdir()
    for attempt in range(3):
        port = free_port()
        config = base / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1:{port}\n"
            f"HostKey {base / 'host_key'}\n"
            f"AuthorizedKeysFile {base / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nPidFile none\nLogLevel ERROR\n"
            "Subsystem sftp internal-sftp\n"
        )
        server = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while server.poll() is None and port not in listening_ports(server.pid):
            if time.monotonic() > deadline:
                server.kill()
                server.wait(timeout=5)
                log.close()
                pytest.fail(f"sshd did not listen on {port}: {(base / 'sshd.log').read_text()}")
            time.sleep(0.05)  # polling its sockets in /proc; the condition ends the wait
        if server.poll() is None:
            break
        if attempt == 2:
            log.close()
            pytest.fail(f"sshd exited: {(base / 'sshd.log').read_text()}")
    (base / "known_hosts").write_text(f"[127.0.0.1]:{port} " + (base / "host_key.pub").read_text())
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert sock.recv(4).startswith(b"SSH-"), "not an SSH server"
        import pwd

        yield SshServer(port, pwd.getpwuid(os.geteuid()).pw_name,
                        base / "client_key", base / "known_hosts", control_dir)
    finally:
        # Close ansible's persistent connections, then every session sshd forked
        # (they call setsid, so a process-group kill would miss them), then sshd.
        for sock in control_dir.glob("*"):
            subprocess.run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "kiosk"],
                           capture_output=True, timeout=10)
        for child in children_of(server.pid):
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()


def make_device_root(root: Path) -> Path:
    """A directory shaped like a fresh Raspberry Pi OS bookworm: accounts, firmware, units."""
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "pi:x:1000:1000:,,,:/home/pi:/bin/bash\n"
    )
    (etc / "group").write_text(
        "root:x:0:\ndaemon:x:1:\ndialout:x:20:pi\nvideo:x:44:pi\ninput:x:105:pi\n"
        "render:x:106:pi\npi:x:1000:\n"
    )
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
                                "pi:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\ndaemon:*::\ndialout:*::pi\nvideo:*::pi\n"
                                 "input:*::pi\nrender:*::pi\npi:!::\n")
    for name in ("shadow", "gshadow"):
        (etc / name).chmod(0o640)
    (etc / "pam.d").mkdir()
    (root / "run").mkdir()
    (etc / "systemd" / "system").mkdir(parents=True)
    firmware = root / "boot" / "firmware"
    firmware.mkdir(parents=True)
    (firmware / "config.txt").write_text(
        "# For more options and information see\n# http://rpf.io/configtxt\n"
        "#dtparam=i2c_arm=on\n#dtparam=i2s=on\n#dtparam=spi=on\n"
        "dtparam=audio=on\ncamera_auto_detect=1\ndisplay_auto_detect=1\n"
        "dtoverlay=vc4-kms-v3d\nmax_framebuffers=2\narm_64bit=1\n"
    )
    (firmware / "cmdline.txt").write_text(
        "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
        "fsck.repair=yes rootwait quiet splash\n"
    )
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    # Raspberry Pi OS Lite boots to the console.
    (etc / "systemd/system/default.target").symlink_to("/lib/systemd/system/multi-user.target")
    return root


def build_wheel(source: Path, out: Path, version: str | None = None) -> Path:
    """Build the project wheel the way staff do, from a copy of the working tree."""
    tree = out / "src"
    shutil.copytree(source, tree, ignore=shutil.ignore_patterns(
        ".git", "tests", "provisioning", "build", "dist", "*.egg-info", "__pycache__",
        ".pytest_cache", ".hypothesis", "test-artifacts", "var", "node_modules",
        # lgpio's notification pipe, left in the working directory by a run without LG_WD.
        ".lgd-nfy*"))
    if not (tree / "README.md").exists():
        (tree / "README.md").write_text("loyalty kiosk\n")
    if version is not None:
        cfg = tree / "setup.cfg"
        cfg.write_text(cfg.read_text().replace("version = ", f"version = {version}\n#", 1))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(out / "dist"), str(tree)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = (out / "dist").glob("loyalty_kiosk-*.whl")
    return wheel


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(WORKTREE, tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def secrets_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The chain's secrets, ansible-vault encrypted, outside the repository."""
    base = tmp_path_factory.mktemp("secrets")
    password = base / "vault-password"
    password.write_text(VAULT_PASSWORD + "\n")
    password.chmod(0o600)
    secrets = base / "example-chain.yml"
    secrets.write_text(json.dumps({
        "kiosk_chain_secret": "c" * 64,
        "kiosk_staff_pin_hash": "pbkdf2_sha256$600000$salt$hash\"with quote",
        "kiosk_registration_tokens": {"kiosk-tajrish-1": "one-time-token"},
    }))
    subprocess.run(
        [str(Path(sys.executable).parent / "ansible-vault"), "encrypt", "--vault-password-file",
         str(password), str(secrets)],
        check=True, capture_output=True, timeout=60,
    )
    return secrets, password


class ReferenceCloud:
    """The project's reference cloud (kiosk-cloud) on a loopback port, as a child process."""

    def __init__(self, work: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        """``port`` 0: the cloud binds a free one itself and prints it; read back from its log."""
        self.db = work / "cloud.sqlite"
        log_path = work / "cloud.log"
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cloud.cli", "--db", str(self.db), "serve", "--host", host, "--port", str(port)],
            cwd=WORKTREE, stdout=self.log, stderr=subprocess.STDOUT)
        serving = re.compile(rf"serving .* on http://{re.escape(host)}:(\d+)/".encode())
        deadline = time.monotonic() + 30
        while not (found := serving.search(log_path.read_bytes())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                pytest.fail("kiosk-cloud did not start: " + log_path.read_text())
            time.sleep(0.1)  # polling its log for the line it prints once bound
        self.port = int(found.group(1))
        self.url = f"http://{host}:{self.port}"

    def cli(self, *argv: str) -> str:
        return subprocess.run([sys.executable, "-m", "cloud.cli", "--db", str(self.db), *argv],
                              cwd=WORKTREE, capture_output=True, text=True, timeout=60,
                              check=True).stdout

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.log.close()
