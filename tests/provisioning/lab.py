"""The appliance lab: a Debian 12 root file system booted with systemd-nspawn (systemd as
PID 1) in a network namespace of its own, reachable from the host only through one veth
pair; apt inside reaches the mirror through an HTTP proxy on the host end.

Used by test_booted_appliance.py and by hand (docs/provisioning.md, "The lab"):
``python -m tests.provisioning.lab rootfs`` builds (or reuses) the cached root file system.
Nothing here is product code: it stands in for a fresh Raspberry Pi OS Lite card and a shop's
network.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("KIOSK_LAB_CACHE", "/var/cache/kiosk-lab"))
SUITE = "bookworm"
# What a Raspberry Pi OS Lite card has that the playbook relies on: systemd, sshd, python3, sudo.
PACKAGES = ("systemd,systemd-sysv,dbus,libpam-systemd,libnss-systemd,openssh-server,python3,"
            "sudo,iproute2,ca-certificates,procps,curl")
# Stock Raspberry Pi OS bookworm firmware files, as on a fresh card.
CONFIG_TXT = (
    "# For more options and information see\n# http://rpf.io/configtxt\n"
    "#dtparam=i2c_arm=on\n#dtparam=i2s=on\n#dtparam=spi=on\n"
    "dtparam=audio=on\ncamera_auto_detect=1\ndisplay_auto_detect=1\n"
    "dtoverlay=vc4-kms-v3d\nmax_framebuffers=2\narm_64bit=1\n"
)
CMDLINE_TXT = ("console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
               "fsck.repair=yes rootwait quiet splash\n")


class LabUnavailable(Exception):
    """This machine cannot run the lab; the message says why (the test skips with it)."""


def _run(argv: list[str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return result


def debian_sources(directory: Path = Path("/etc/apt/sources.list.d")) -> list[str]:
    """One-line ``deb URI SUITE COMPONENTS`` entries for the bookworm suites this machine's
    own apt uses (deb822 ``*.sources`` and one-line ``*.list`` files)."""
    lines: list[str] = []
    for path in sorted(directory.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    if suite.startswith(SUITE):
                        lines.append(f"deb {uri} {suite} {fields.get('components', 'main')}")
    for path in sorted(directory.glob("*.list")):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[0] == "deb" and parts[2].startswith(SUITE):
                lines.append(line.strip())
    return lines


def check_host() -> None:
    """Raise LabUnavailable naming what is missing for booting a container here."""
    if os.geteuid() != 0:
        raise LabUnavailable("the lab boots a container with systemd-nspawn: run as root")
    for tool, package in (("systemd-nspawn", "systemd-container"), ("mmdebstrap", "mmdebstrap"),
                          ("ip", "iproute2"),
                          ("ssh", "openssh-client")):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            raise LabUnavailable(f"{tool} not found: apt-get install {package}")
    probe = subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        raise LabUnavailable(f"cannot create namespaces for a container: {probe.stderr.strip()}")
    if not debian_sources():
        raise LabUnavailable(f"no {SUITE} source in /etc/apt/sources.list.d to build a root from")


def base_rootfs(log=print) -> Path:
    """The cached bookworm root file system (built once with mmdebstrap, then reused)."""
    sources = debian_sources()
    key = hashlib.sha256("\n".join([PACKAGES, *sources]).encode()).hexdigest()[:12]
    root = CACHE / f"rootfs-{SUITE}-amd64-{key}"

    def build(partial: Path) -> None:
        log(f"building {root} with mmdebstrap (about 30 s, once)")
        _run(["mmdebstrap", "--mode=root", "--variant=minbase", f"--include={PACKAGES}",
              "--aptopt=Acquire::Check-Valid-Until \"false\"", "--skip=cleanup/apt/lists",
              SUITE, str(partial), *sources], timeout=1200)

    return cached(root, build)


def cached(final: Path, build: Callable[[Path], None]) -> Path:
    """*final*, built once by *build* into a scratch directory that is renamed into place.

    The cache is shared by every suite on the machine: two suites started together both
    found it missing and built into one scratch directory, and one renamed it away under
    the other (clean31). An exclusive lock next to it makes the second wait and reuse."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.with_name(final.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not final.is_dir():
            partial = final.with_name(final.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            build(partial)
            partial.rename(final)
    return final


def card_from(base: Path, root: Path, hostname: str, ssh_public_key: str, apt_proxy: str) -> Path:
    """A copy of the base shaped like a fresh Raspberry Pi OS Lite card: hostname, the `pi`
    user (uid 1000, passwordless sudo, the given SSH key), firmware files, a `gpio` group."""
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    _run(["cp", "-a", "--reflink=auto", str(base), str(root)], timeout=600)

    def chroot(*argv: str) -> None:
        _run(["chroot", str(root), *argv])

    (root / "etc/hostname").write_text(hostname + "\n")
    (root / "etc/hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {hostname}\n")
    (root / "etc/machine-id").write_text(hashlib.md5(hostname.encode()).hexdigest() + "\n")
    # Raspberry Pi OS has these; a minbase root without udev lacks input and render.
    for group in ("gpio", "input", "render"):
        chroot("groupadd", "--force", "--system", group)
    chroot("useradd", "--uid", "1000", "--create-home", "--shell", "/bin/bash",
           "--groups", "sudo,dialout,video,input,gpio", "pi")
    (root / "etc/sudoers.d/010_pi-nopasswd").write_text("pi ALL=(ALL) NOPASSWD: ALL\n")
    ssh_dir = root / "home/pi/.ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "authorized_keys").write_text(ssh_public_key)
    chroot("chown", "-R", "pi:pi", "/home/pi/.ssh")
    firmware = root / "boot/firmware"
    firmware.mkdir(parents=True, exist_ok=True)
    (firmware / "config.txt").write_text(CONFIG_TXT)
    (firmware / "cmdline.txt").write_text(CMDLINE_TXT)
    # The shop network stands in for the internet through the proxy on the host end.
    (root / "etc/apt/apt.conf.d/01kiosk-lab-proxy").write_text(
        f'Acquire::http::Proxy "{apt_proxy}";\nAcquire::Check-Valid-Until "false";\n')
    return root


# A container has no tty1 and no DRM device: cage draws into wlroots' headless backend with
# the pixman (CPU) renderer. Two headless outputs, so the page spans both and cage never
# scans Chromium's buffer out directly: with one output, cage 0.1.4 on wlroots 0.15 then
# repaints only the damaged parts of its own buffers and a screenshot is mostly black.
HEADLESS_SCREEN = """\
# Lab only (tests/provisioning/lab.py): the screen without a screen.
[Unit]
ConditionPathExists=
[Service]
Environment=WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 WLR_HEADLESS_OUTPUTS=2
"""


def headless_screen(root: Path) -> None:
    """The lab's drop-in for kiosk-ui.service, beside the one the playbook writes."""
    drop_ins = root / "etc/systemd/system/kiosk-ui.service.d"
    drop_ins.mkdir(parents=True, exist_ok=True)
    (drop_ins / "50-lab-headless.conf").write_text(HEADLESS_SCREEN)


@dataclass
class Network:
    """A network namespace of the lab's own joined to the host by one veth pair on a /30."""

    name: str
    host_ip: str
    guest_ip: str

    @classmethod
    def create(cls, tag: int) -> Network:
        # A /30 per run in 10.254.0.0/16, picked from the tag so parallel runs do not collide.
        third, fourth = (tag >> 6) & 0xFF, (tag & 0x3F) * 4
        net = cls(f"kiosklab{tag}", f"10.254.{third}.{fourth + 1}", f"10.254.{third}.{fourth + 2}")
        host_if, guest_if = f"klh{tag}", f"klg{tag}"
        subprocess.run(["ip", "netns", "delete", net.name], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "delete", host_if], capture_output=True, timeout=30)
        for argv in (
            ["ip", "netns", "add", net.name],
            ["ip", "link", "add", host_if, "type", "veth", "peer", "name", guest_if],
            ["ip", "link", "set", guest_if, "netns", net.name],
            ["ip", "-n", net.name, "link", "set", guest_if, "name", "eth0"],
            ["ip", "addr", "add", f"{net.host_ip}/30", "dev", host_if],
            ["ip", "link", "set", host_if, "up"],
            ["ip", "-n", net.name, "addr", "add", f"{net.guest_ip}/30", "dev", "eth0"],
            ["ip", "-n", net.name, "link", "set", "eth0", "up"],
            ["ip", "-n", net.name, "link", "set", "lo", "up"],
        ):
            _run(argv, timeout=30)
        net._host_if = host_if
        return net

    @property
    def path(self) -> str:
        return f"/run/netns/{self.name}"

    def delete(self) -> None:
        subprocess.run(["ip", "link", "delete", getattr(self, "_host_if", "")],
                       capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True, timeout=30)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    """Plain-HTTP forward proxy for apt: `GET http://mirror/path`. Packages (.deb, immutable
    once published) are kept in the lab cache; index files always come from the mirror."""

    server: AptProxy._Server

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        url = self.path
        if not url.startswith("http://"):
            self.send_error(400, "only absolute http:// URLs (a proxy request)")
            return
        cached = self.server.cache / hashlib.sha256(url.encode()).hexdigest()
        if url.endswith(".deb") and cached.is_file():
            self._send_file(cached)
            return
        try:
            with urllib.request.urlopen(url, timeout=120) as upstream:
                body = upstream.read()
                headers = upstream.headers
        except urllib.error.HTTPError as error:
            self.send_error(error.code, str(error.reason))
            return
        except OSError as error:
            self.send_error(502, str(error))
            return
        if url.endswith(".deb"):
            partial = cached.with_suffix(f".{os.getpid()}.{threading.get_ident()}")
            partial.write_bytes(body)
            partial.replace(cached)
        self.send_response(200)
        for name in ("Content-Type", "Last-Modified"):
            if headers.get(name):
                self.send_header(name, headers[name])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, path: Path) -> None:
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.debian.binary-package")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the http.server name
        self.server.log.write((format % args + "\n").encode())


class AptProxy:
    """An HTTP proxy for apt on the host end of the veth, keeping packages under the lab
    cache. (apt-cacher-ng was tried first: on this machine it never binds a TCP port,
    `Error resolving address for binding`.)"""

    class _Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        cache: Path
        log: object

    def __init__(self, address: str, work: Path) -> None:
        self.server = self._Server((address, 0), _ProxyHandler)
        self.server.cache = CACHE / "apt-packages"
        self.server.cache.mkdir(parents=True, exist_ok=True)
        self.server.log = open(work / "apt-proxy.log", "ab")
        self.url = f"http://{address}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="apt-proxy",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
        self.server.log.close()


def wait_for_port(host: str, port: int, timeout: float, process=None, banner: bytes = b"") -> float:
    """Wait until host:port accepts (and sends *banner*, if given); returns the seconds taken."""
    start = time.monotonic()
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1) as sock:
                if not banner or sock.recv(len(banner)).startswith(banner):
                    return time.monotonic() - start
        except OSError:
            pass
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"nothing answered on {host}:{port} within {timeout} s")
        time.sleep(0.1)


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Machine:
    """systemd-nspawn -b on the card, restarted while it exits 133 (a reboot inside), the way
    systemd-nspawn@.service does it."""

    root: Path
    network: Network
    log_path: Path
    boots: int = 0
    _process: subprocess.Popen | None = None
    _stopping: bool = False
    _thread: threading.Thread | None = None
    exit_codes: list[int] = field(default_factory=list)

    def start(self) -> None:
        self._log = open(self.log_path, "ab")
        self._thread = threading.Thread(target=self._loop, name="nspawn", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping:
            self.boots += 1
            self._process = subprocess.Popen(
                ["systemd-nspawn", "-D", str(self.root), "-b", "-M", "kiosk",
                 "--register=no", "--keep-unit", "--console=read-only", "--timezone=off",
                 "--resolv-conf=off", f"--network-namespace-path={self.network.path}"],
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            code = self._process.wait()
            self.exit_codes.append(code)
            if code != 133:
                return

    def leader(self) -> int:
        """PID (on the host) of the container's PID 1."""
        if self._process is None:
            raise RuntimeError("not started")
        for child in Path(f"/proc/{self._process.pid}/task/{self._process.pid}/children").read_text().split():
            return int(child)
        raise RuntimeError("the container has no PID 1 yet")

    def sh(self, command: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        """A shell command inside the container, as root in its namespaces (nsenter)."""
        result = subprocess.run(
            ["nsenter", "-t", str(self.leader()), "-a", "/bin/sh", "-c", command],
            capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"`{command}` failed ({result.returncode}): "
                                 f"{result.stdout}{result.stderr}")
        return result

    def output(self, command: str, timeout: float = 120) -> bytes:
        """The standard output, as bytes, of a shell command inside the container."""
        result = subprocess.run(["nsenter", "-t", str(self.leader()), "-a", "/bin/sh", "-c", command],
                                capture_output=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"`{command}` failed ({result.returncode}): {result.stderr!r}")
        return result.stdout

    def stop(self) -> None:
        self._stopping = True
        if self._process is not None and self._process.poll() is None:
            # SIGRTMIN+3 asks systemd (PID 1 inside) to halt; nspawn exits when it has.
            try:
                os.kill(self.leader(), 37)
            except (RuntimeError, ProcessLookupError):
                pass
            try:
                self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._log.close()


def main(argv: list[str]) -> int:
    if argv[:1] == ["rootfs"]:
        check_host()
        print(base_rootfs())
        return 0
    print("usage: python -m tests.provisioning.lab rootfs", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
