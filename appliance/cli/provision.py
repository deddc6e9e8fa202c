"""`kioskctl provision`: a thin wrapper that builds, prints and runs the ansible-playbook run.

Staff run it on their own machine from a checkout of the project:

    kioskctl provision --inventory provisioning/inventories/example-chain --branch tajrish \
        --secrets ~/kiosk-secrets/example-chain.yml --ask-vault-pass

Everything it does is visible in the printed command, so the same run can be repeated by
hand with ansible-playbook when something needs digging into.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.errors import KioskError

SOURCE_TREE = Path(__file__).resolve().parents[1]


class ProvisionError(KioskError):
    """The provisioning run cannot be started as asked."""


@dataclass(frozen=True)
class ProvisionRequest:
    inventory: Path
    branch: str
    playbook: Path
    wheel: Path
    limit: str | None = None
    check: bool = False
    secrets: Path | None = None
    vault_password_file: Path | None = None
    ask_vault_pass: bool = False
    ask_become_pass: bool = False
    wheelhouse: Path | None = None
    tags: str | None = None
    skip_tags: str | None = None
    extra_vars: tuple[str, ...] = field(default_factory=tuple)


def build_command(request: ProvisionRequest, ansible_playbook: str) -> list[str]:
    """The ansible-playbook argv for a request (pure: no file system, no subprocess)."""
    limit = request.branch if request.limit is None else f"{request.branch}:&{request.limit}"
    argv = [ansible_playbook, "-i", str(request.inventory), str(request.playbook), "--limit", limit]
    if request.check:
        argv += ["--check", "--diff"]
    argv += ["-e", f"kiosk_wheel={request.wheel}"]
    if request.wheelhouse is not None:
        argv += ["-e", f"kiosk_wheelhouse={request.wheelhouse}"]
    if request.secrets is not None:
        argv += ["-e", f"@{request.secrets}"]
    if request.vault_password_file is not None:
        argv += ["--vault-password-file", str(request.vault_password_file)]
    if request.ask_vault_pass:
        argv.append("--ask-vault-pass")
    if request.ask_become_pass:
        argv.append("--ask-become-pass")
    if request.tags:
        argv += ["--tags", request.tags]
    if request.skip_tags:
        argv += ["--skip-tags", request.skip_tags]
    for extra in request.extra_vars:
        argv += ["-e", extra]
    return argv


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `kioskctl provision`; the lead's CLI calls this on its subparser."""
    parser.add_argument("--inventory", required=True, type=Path,
                        help="the chain's inventory directory or file")
    parser.add_argument("--branch", required=True,
                        help="the branch to provision (a group in the inventory)")
    parser.add_argument("--limit", help="only this device of the branch (inventory host name)")
    parser.add_argument("--check", action="store_true",
                        help="dry run: show what would change, change nothing")
    parser.add_argument("--secrets", type=Path,
                        help="the chain's secrets file (YAML, usually ansible-vault encrypted)")
    parser.add_argument("--vault-password-file", type=Path)
    parser.add_argument("--ask-vault-pass", action="store_true")
    parser.add_argument("--ask-become-pass", action="store_true")
    parser.add_argument("--wheel", type=Path,
                        help="the app wheel to install (default: newest dist/loyalty_kiosk-*.whl)")
    parser.add_argument("--wheelhouse", type=Path,
                        help="a directory of dependency wheels for devices without good internet")
    parser.add_argument("--playbook", type=Path, help="default: provisioning/site.yml")
    parser.add_argument("--tags")
    parser.add_argument("--skip-tags")
    parser.add_argument("-e", "--extra-vars", action="append", default=[],
                        help="passed to ansible-playbook -e (repeatable)")


def find_playbook(inventory: Path) -> Path:
    """provisioning/site.yml above the inventory, else the one in this source tree."""
    for directory in [inventory.resolve(), *inventory.resolve().parents]:
        if (directory / "site.yml").is_file() and (directory / "roles").is_dir():
            return directory / "site.yml"
    bundled = SOURCE_TREE / "provisioning" / "site.yml"
    if bundled.is_file():
        return bundled
    raise ProvisionError(
        f"no provisioning/site.yml found above {inventory} or in {SOURCE_TREE}: "
        "run from a checkout of the project or pass --playbook PATH"
    )


def find_wheel(playbook: Path) -> Path:
    """The newest loyalty_kiosk wheel in the project's dist/ directory."""
    dist = playbook.resolve().parents[1] / "dist"
    wheels = sorted(dist.glob("loyalty_kiosk-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise ProvisionError(
            f"no loyalty_kiosk-*.whl in {dist}: build one with "
            "`python -m pip wheel --no-deps -w dist .` in the project, or pass --wheel PATH"
        )
    return wheels[-1]


def find_ansible_playbook() -> str:
    beside = Path(sys.executable).parent / "ansible-playbook"
    if beside.is_file():
        return str(beside)
    found = shutil.which("ansible-playbook")
    if found is None:
        raise ProvisionError(
            "ansible-playbook not found: install ansible-core into this venv "
            "(pip install 'loyalty-kiosk[provision]')"
        )
    return found


def inventory_groups(inventory: Path, ansible_playbook: str) -> dict[str, list[str]]:
    """Group name -> host names, as ansible itself reads the inventory."""
    tool = str(Path(ansible_playbook).with_name("ansible-inventory"))
    result = subprocess.run(
        [tool, "-i", str(inventory), "--list"], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise ProvisionError(f"cannot read inventory {inventory}: {result.stderr.strip()}")
    data = json.loads(result.stdout)
    return {
        name: list(body.get("hosts", []))
        for name, body in data.items()
        if isinstance(body, dict) and name not in ("_meta", "all", "ungrouped")
    }


def check_target(groups: dict[str, list[str]], branch: str, limit: str | None) -> None:
    if branch not in groups:
        known = ", ".join(sorted(groups)) or "none"
        raise ProvisionError(f"branch {branch!r} is not a group in the inventory (branches: {known})")
    if not groups[branch]:
        raise ProvisionError(f"branch {branch!r} has no devices in the inventory")
    if limit is not None and limit not in groups[branch]:
        hosts = ", ".join(groups[branch])
        raise ProvisionError(f"device {limit!r} is not in branch {branch!r} (its devices: {hosts})")


def request_from_args(args: argparse.Namespace) -> ProvisionRequest:
    inventory = Path(args.inventory)
    if not inventory.exists():
        raise ProvisionError(f"inventory {inventory} does not exist")
    playbook = Path(args.playbook) if args.playbook else find_playbook(inventory)
    wheel = Path(args.wheel) if args.wheel else find_wheel(playbook)
    for label, path in [("wheel", wheel), ("secrets file", args.secrets),
                        ("vault password file", args.vault_password_file)]:
        if path is not None and not Path(path).is_file():
            raise ProvisionError(f"{label} {path} does not exist")
    if args.wheelhouse is not None and not Path(args.wheelhouse).is_dir():
        raise ProvisionError(f"wheelhouse {args.wheelhouse} is not a directory")
    return ProvisionRequest(
        inventory=inventory.resolve(), branch=args.branch, playbook=playbook.resolve(),
        wheel=wheel.resolve(), limit=args.limit, check=args.check,
        secrets=Path(args.secrets).resolve() if args.secrets else None,
        vault_password_file=(Path(args.vault_password_file).resolve()
                             if args.vault_password_file else None),
        ask_vault_pass=args.ask_vault_pass, ask_become_pass=args.ask_become_pass,
        wheelhouse=Path(args.wheelhouse).resolve() if args.wheelhouse else None,
        tags=args.tags, skip_tags=args.skip_tags, extra_vars=tuple(args.extra_vars),
    )


def provision(args: argparse.Namespace) -> int:
    """Run `kioskctl provision`; returns ansible-playbook's exit code (2 on a usage error)."""
    try:
        request = request_from_args(args)
        ansible_playbook = find_ansible_playbook()
        check_target(inventory_groups(request.inventory, ansible_playbook),
                     request.branch, request.limit)
    except ProvisionError as error:
        print(f"kioskctl provision: {error}", file=sys.stderr)
        return 2
    argv = build_command(request, ansible_playbook)
    print("$ " + shlex.join(argv), flush=True)
    env = dict(os.environ, ANSIBLE_CONFIG=str(request.playbook.parent / "ansible.cfg"))
    return subprocess.run(argv, env=env, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (python -m appliance.cli.provision) until kioskctl wires the subcommand."""
    parser = argparse.ArgumentParser(prog="kioskctl provision", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return provision(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
