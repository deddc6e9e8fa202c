"""`python -m appliance.cli.staff_pin`: print a staff_pin_hash line for the secrets file (the PIN is read without echo)."""
from __future__ import annotations

import getpass
import sys

from kiosk.flows.staff import hash_pin


def main() -> int:
    pin = getpass.getpass("new staff PIN (4-12 digits): ")
    if getpass.getpass("again: ") != pin:
        print("the two PINs differ; nothing printed", file=sys.stderr)
        return 1
    try:
        print(f'staff_pin_hash = "{hash_pin(pin)}"')
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
