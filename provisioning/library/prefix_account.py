#!/usr/bin/python
"""Ansible module: a system user and its groups, in / or in a target root directory.

ansible.builtin.user cannot work on a directory that stands in for a device (a test
target, an SD card image mounted on the staff machine), but shadow's own tools can:
useradd/groupadd/usermod --prefix edit PREFIX/etc/{passwd,group,shadow,gshadow}.
Using the same tools for / keeps a single code path, tested in both places.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: prefix_account
short_description: Ensure a system user with a primary group and supplementary groups
options:
  name: {description: user name, required: true, type: str}
  groups: {description: supplementary groups (created as system groups if missing), type: list, elements: str, default: []}
  home: {description: home directory (not created), type: str, default: /nonexistent}
  shell: {description: login shell, type: str, default: /usr/sbin/nologin}
  root: {description: target root directory; / for the running system, type: str, default: /}
"""

import os

from ansible.module_utils.basic import AnsibleModule


def read_db(path):
    entries = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 4 and fields[0]:
                    entries[fields[0]] = fields
    return entries


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            groups=dict(type="list", elements="str", default=[]),
            home=dict(type="str", default="/nonexistent"),
            shell=dict(type="str", default="/usr/sbin/nologin"),
            root=dict(type="str", default="/"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    root = p["root"].rstrip("/") or "/"
    etc = os.path.join(root, "etc")
    for db in ("passwd", "group"):
        if not os.path.exists(os.path.join(etc, db)):
            module.fail_json(msg=f"{os.path.join(etc, db)} does not exist: is {root} really "
                                 "the root directory of the target system?")
    prefix = [] if root == "/" else ["--prefix", root]
    name = p["name"]
    changes = []

    def run(argv):
        changes.append(" ".join(argv))
        if not module.check_mode:
            rc, out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(msg=f"{' '.join(argv)} failed (rc={rc}): {err.strip() or out.strip()}")

    groups = read_db(os.path.join(etc, "group"))
    for group in [name] + [g for g in p["groups"] if g != name]:
        if group not in groups:
            run(["groupadd", *prefix, "--system", group])

    users = read_db(os.path.join(etc, "passwd"))
    if name not in users:
        argv = ["useradd", *prefix, "--system", "--gid", name, "--home-dir", p["home"],
                "--no-create-home", "--shell", p["shell"]]
        if p["groups"]:
            argv += ["--groups", ",".join(p["groups"])]
        run(argv + [name])
    else:
        user = users[name]
        if user[5] != p["home"] or user[6] != p["shell"]:
            run(["usermod", *prefix, "--home", p["home"], "--shell", p["shell"], name])
        groups = read_db(os.path.join(etc, "group"))
        missing = [g for g in p["groups"]
                   if g in groups and name not in groups[g][3].split(",")]
        if missing:
            run(["usermod", *prefix, "--append", "--groups", ",".join(missing), name])

    result = dict(changed=bool(changes), commands=changes, name=name)
    users = read_db(os.path.join(etc, "passwd"))
    if name in users:
        result["uid"] = int(users[name][2])
        result["gid"] = int(users[name][3])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
