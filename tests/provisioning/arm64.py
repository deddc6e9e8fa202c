"""An arm64 (aarch64) Debian 12 root file system run through qemu-user-static and binfmt_misc,
for what the x86 lab cannot show: that the app's wheel and an aarch64 wheelhouse install on
a Pi's Python without a compiler, and that every module imports there.

The wheelhouse is made the way docs/provisioning.md tells staff to make one: binary wheels
for aarch64 downloaded by this machine's pip, and the few dependencies PyPI has only as
source (evdev, a C extension; pyDes) built once inside the arm64 root, which has gcc. The
device then installs with `pip --no-index --only-binary=:all:` (the app role does), so it
never compiles anything. By hand: ``python -m tests.provisioning.arm64 wheelhouse WHEEL``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import lab

# What a Pi OS Lite card has for the kiosk (python3, python3-venv), and what building the
# source-only dependencies needs; the install test removes the compiler (in its overlay).
PACKAGES = "python3,python3-venv,python3-dev,gcc,libc6-dev"
BINFMT = Path("/proc/sys/fs/binfmt_misc")
COMPILER = "/usr/bin/aarch64-linux-gnu-gcc-12"
# pip's platform tags for bookworm's glibc 2.36 on aarch64: each manylinux level is asked for.
PLATFORMS = [f"manylinux_2_{minor}_aarch64" for minor in range(17, 37)] + [
    "manylinux2014_aarch64", "linux_aarch64"]


def check_host() -> None:
    """Raise lab.LabUnavailable, with the evidence, when aarch64 programs cannot run here."""
    if os.geteuid() != 0:
        raise lab.LabUnavailable("the arm64 root is built and entered as root")
    for tool, package in (("qemu-aarch64-static", "qemu-user-static"),
                          ("update-binfmts", "binfmt-support"), ("mmdebstrap", "mmdebstrap"),
                          ("systemd-nspawn", "systemd-container")):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            raise lab.LabUnavailable(f"{tool} not found: apt-get install {package}")
    if not (BINFMT / "register").exists():
        mounted = subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)],
                                 capture_output=True, text=True, timeout=30)
        if mounted.returncode != 0:
            raise lab.LabUnavailable(f"cannot mount binfmt_misc on {BINFMT}: "
                                     f"{mounted.stderr.strip()}")
    entry = BINFMT / "qemu-aarch64"
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        enabled = subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"],
                                 capture_output=True, text=True, timeout=60)
        if not entry.exists() or not entry.read_text().startswith("enabled"):
            raise lab.LabUnavailable("binfmt_misc has no enabled qemu-aarch64 entry; "
                                     f"update-binfmts --enable qemu-aarch64 said: "
                                     f"{(enabled.stderr or enabled.stdout).strip()}")
    # F (fix binary): the kernel opened the interpreter at registration, so it works inside
    # a root that does not contain it.
    flags = next((line for line in entry.read_text().splitlines() if line.startswith("flags:")), "")
    if "F" not in flags.partition(":")[2]:
        raise lab.LabUnavailable(f"{entry} lacks the F flag ({flags!r}): qemu would have to be "
                                 "copied into the root")


def rootfs(log=print) -> Path:
    """The cached arm64 bookworm root (mmdebstrap --arch=arm64, once: 5-15 minutes, since
    every maintainer script runs emulated)."""
    sources = lab.debian_sources()
    key = hashlib.sha256("\n".join([PACKAGES, *sources]).encode()).hexdigest()[:12]
    root = lab.CACHE / f"rootfs-{lab.SUITE}-arm64-{key}"

    def build(partial: Path) -> None:
        log(f"building {root} with mmdebstrap through qemu (once)")
        lab._run(["mmdebstrap", "--mode=root", "--variant=minbase", "--arch=arm64",
                  f"--include={PACKAGES}", "--aptopt=Acquire::Check-Valid-Until \"false\"",
                  lab.SUITE, str(partial), *sources], timeout=3600)

    return lab.cached(root, build)


def run(root: Path, script: str, binds: dict[Path, str], writable: Path | None = None,
        timeout: float = 1800) -> subprocess.CompletedProcess:
    """*script* under /bin/sh in the arm64 root: its changes go to a throwaway overlay (the
    cached root stays as built), no network, *binds* read-only, *writable* at /out."""
    argv = ["systemd-nspawn", "-q", "-D", str(root), "--register=no", "--keep-unit",
            "--volatile=overlay", "--private-network", "--setenv=PIP_DISABLE_PIP_VERSION_CHECK=1"]
    argv += [f"--bind-ro={host}:{inside}" for host, inside in binds.items()]
    if writable is not None:
        argv.append(f"--bind={writable}:/out")
    return subprocess.run([*argv, "--", "/bin/sh", "-c", script], capture_output=True,
                          text=True, timeout=timeout)


def wheelhouse(amd64_house: Path, root: Path) -> Path:
    """aarch64 wheels for the same pinned versions as *amd64_house* (the dependencies pip
    resolved for this machine's Python 3.11, which is bookworm's), cached."""
    pins = sorted("==".join(wheel.name.split("-")[:2]) for wheel in amd64_house.glob("*.whl"))
    house = lab.CACHE / f"wheelhouse-arm64-{hashlib.sha256(' '.join(pins).encode()).hexdigest()[:12]}"

    def build(partial: Path) -> None:
        partial.mkdir(parents=True)
        # --no-deps: the pins are the whole resolved set; it also lets pip fetch a source
        # archive where PyPI has no aarch64 wheel (with --platform it would refuse otherwise).
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(partial),
             "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--abi", "abi3",
             "--abi", "none", *(f"--platform={p}" for p in PLATFORMS), *pins],
            capture_output=True, text=True, timeout=1800)
        if download.returncode != 0:
            raise RuntimeError(f"pip download for aarch64 failed: {download.stderr[-3000:]}")
        sources = sorted(p.name for p in partial.iterdir() if not p.name.endswith(".whl"))
        if sources:
            # evdev's pyproject needs a newer setuptools than bookworm's venv brings; the
            # downloaded one is pure Python. Offline: nothing but the archives is used.
            built = run(root, "set -e; python3 -m venv /tmp/build; "
                        "/tmp/build/bin/pip install -q --no-index /in/setuptools-*.whl; cd /in && /tmp/build/bin/pip wheel -q --no-deps --no-build-isolation "
                        "--no-index -w /out " + " ".join(sources),
                        {partial: "/in"}, writable=partial)
            if built.returncode != 0:
                raise RuntimeError(f"building {sources} for aarch64 failed: "
                                   f"{(built.stdout + built.stderr)[-3000:]}")
            for name in sources:
                (partial / name).unlink()

    return lab.cached(house, build)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "wheelhouse":
        from .test_booted_appliance import wheelhouse as amd64_wheelhouse

        check_host()
        print(wheelhouse(amd64_wheelhouse(Path(argv[1])), rootfs()))
        return 0
    print("usage: python -m tests.provisioning.arm64 wheelhouse dist/loyalty_kiosk-*.whl",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
