"""kioskctl provision builds the playbook run from its options and refuses bad targets
before any SSH connection is made."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from appliance.cli.provision import (
    ProvisionRequest,
    add_arguments,
    build_command,
    find_playbook,
    provision,
)

WORKTREE = Path(__file__).resolve().parents[2]
INVENTORY = WORKTREE / "provisioning" / "inventories" / "example-chain"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_command_limits_the_run_to_the_branch_and_passes_secrets_from_outside():
    request = ProvisionRequest(
        inventory=Path("/inv"), branch="tajrish", playbook=Path("/p/site.yml"),
        wheel=Path("/d/loyalty_kiosk-1.0-py3-none-any.whl"), secrets=Path("/home/s/chain.yml"),
        vault_password_file=Path("/home/s/.vault"))
    assert build_command(request, "ansible-playbook") == [
        "ansible-playbook", "-i", "/inv", "/p/site.yml", "--limit", "tajrish",
        "-e", "kiosk_wheel=/d/loyalty_kiosk-1.0-py3-none-any.whl",
        "-e", "@/home/s/chain.yml", "--vault-password-file", "/home/s/.vault"]


def test_check_and_limit_narrow_the_run_to_one_device_as_a_dry_run():
    request = ProvisionRequest(
        inventory=Path("/inv"), branch="zand", playbook=Path("/p/site.yml"),
        wheel=Path("/w.whl"), limit="kiosk-zand-1", check=True, extra_vars=("a=1",))
    argv = build_command(request, "ansible-playbook")
    assert argv[argv.index("--limit") + 1] == "zand:&kiosk-zand-1"
    assert "--check" in argv and "--diff" in argv and argv[-2:] == ["-e", "a=1"]


def test_the_playbook_is_found_above_the_inventory():
    assert find_playbook(INVENTORY) == WORKTREE / "provisioning" / "site.yml"


def test_an_unknown_branch_is_refused_with_the_branches_there_are(tmp_path, capsys):
    wheel = tmp_path / "loyalty_kiosk-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    code = provision(_args("--inventory", str(INVENTORY), "--branch", "tajrish-typo",
                           "--wheel", str(wheel)))
    assert code == 2
    err = capsys.readouterr().err
    assert "branch 'tajrish-typo' is not a group in the inventory (branches: tajrish, zand)" in err


def test_a_device_of_another_branch_is_refused(tmp_path, capsys):
    wheel = tmp_path / "loyalty_kiosk-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    code = provision(_args("--inventory", str(INVENTORY), "--branch", "zand",
                           "--limit", "kiosk-tajrish-1", "--wheel", str(wheel)))
    assert code == 2
    assert "device 'kiosk-tajrish-1' is not in branch 'zand' (its devices: kiosk-zand-1)" in (
        capsys.readouterr().err)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--secrets", "secrets file"),
        ("--vault-password-file", "vault password file"),
        ("--wheel", "wheel"),
    ],
)
def test_a_missing_input_file_is_named_before_anything_runs(tmp_path, capsys, option, message):
    wheel = tmp_path / "loyalty_kiosk-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    argv = ["--inventory", str(INVENTORY), "--branch", "zand", "--wheel", str(wheel)]
    argv += [option, str(tmp_path / "missing")]
    assert provision(_args(*argv)) == 2
    assert f"{message} {tmp_path / 'missing'} does not exist" in capsys.readouterr().err


def test_without_a_built_wheel_it_says_how_to_build_one(tmp_path, capsys):
    playbook_dir = tmp_path / "provisioning"
    (playbook_dir / "roles").mkdir(parents=True)
    (playbook_dir / "site.yml").write_text("[]\n")
    inventory = playbook_dir / "inventories" / "x"
    inventory.mkdir(parents=True)
    assert provision(_args("--inventory", str(inventory), "--branch", "x")) == 2
    assert "pip wheel --no-deps -w dist ." in capsys.readouterr().err


def test_the_playbook_passes_ansible_syntax_check_with_the_example_inventory():
    import subprocess
    import sys

    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "--syntax-check", "-i", str(INVENTORY),
         str(WORKTREE / "provisioning" / "site.yml")],
        env={"ANSIBLE_CONFIG": str(WORKTREE / "provisioning" / "ansible.cfg"), "PATH": "/usr/bin:/bin",
             "ANSIBLE_HOME": "/nonexistent-ansible-home", "HOME": "/tmp"},
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stderr, result.stderr
