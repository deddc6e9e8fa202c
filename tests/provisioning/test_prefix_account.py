"""The prefix_account module (provisioning/library) on a target root directory, run by
ansible itself on a local connection: users and groups land in the target's account
files, never in the host's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[2] / "provisioning" / "library"
ANSIBLE = Path(sys.executable).parent / "ansible"

pytestmark = pytest.mark.skipif(shutil.which("useradd") is None,
                                reason="shadow tools missing: apt-get install passwd")


def _run(root: Path, tmp_path: Path, **params: object) -> dict:
    args = json.dumps({"root": str(root), **params})
    env = dict(os.environ, ANSIBLE_LIBRARY=str(LIBRARY), ANSIBLE_HOME=str(tmp_path / "ah"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "lt"), ANSIBLE_REMOTE_TEMP=str(tmp_path / "rt"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    tree = tmp_path / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    # -t writes each host's module result as JSON (ansible-core's tree callback).
    result = subprocess.run(
        [str(ANSIBLE), "localhost", "-c", "local", "-i", "localhost,", "-m", "prefix_account",
         "-a", args, "-t", str(tree)], env=env, capture_output=True, text=True, timeout=120)
    assert (tree / "localhost").exists(), result.stdout + result.stderr
    return json.loads((tree / "localhost").read_text())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    etc = tmp_path / "target" / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n"
                                "kiosk:x:998:998::/home/kiosk:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\ndialout:x:20:kiosk\nvideo:x:44:\nkiosk:x:998:\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\nkiosk:!:19000::::::\n")
    (etc / "gshadow").write_text("root:*::\ndialout:*::kiosk\nvideo:*::\nkiosk:!::\n")
    return tmp_path / "target"


def _members(root: Path, group: str) -> list[str]:
    for line in (root / "etc/group").read_text().splitlines():
        name, _, _, members = line.split(":")
        if name == group:
            return members.split(",") if members else []
    raise AssertionError(f"no group {group}")


def test_an_existing_user_gets_the_missing_groups_home_and_shell_then_nothing_changes(root, tmp_path):
    # The host's own accounts named as the test's user, not the host's whole file: a package installed meanwhile
    # may add users of its own.
    host_kiosk = [line for line in Path("/etc/passwd").read_text().splitlines() if line.startswith("kiosk:")]
    first = _run(root, tmp_path, name="kiosk", groups=["dialout", "gpio", "video"],
                 home="/var/lib/kiosk")
    assert first.get("failed") is not True, first
    assert first["changed"] is True and (first["uid"], first["gid"]) == (998, 998)
    assert _members(root, "gpio") == ["kiosk"] and _members(root, "video") == ["kiosk"]
    assert _members(root, "dialout") == ["kiosk"]
    assert "kiosk:x:998:998::/var/lib/kiosk:/usr/sbin/nologin" in (root / "etc/passwd").read_text()
    second = _run(root, tmp_path, name="kiosk", groups=["dialout", "gpio", "video"],
                  home="/var/lib/kiosk")
    assert second["changed"] is False
    assert [line for line in Path("/etc/passwd").read_text().splitlines() if line.startswith("kiosk:")] == host_kiosk


def test_a_directory_that_is_not_a_root_filesystem_is_refused_clearly(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _run(tmp_path / "empty", tmp_path, name="kiosk")
    assert result.get("changed") is not True
    assert "etc/passwd does not exist" in result["msg"]
    assert "really the root directory of the target" in result["msg"]
