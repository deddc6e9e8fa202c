"""`kiosk-cloud draws ...`: verify a published draw (no database needed), publish or run one (docs/draws.md)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cloud import draws
from cloud.errors import BadConfig

if TYPE_CHECKING:
    from cloud.store import CloudStore


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("draws", help="draws: verify a published result, publish or run a draw")
    sub = parser.add_subparsers(dest="draws_command", required=True)
    verify = sub.add_parser("verify", help="recompute the winners of a published draw (JSON file, - for stdin)")
    verify.add_argument("file")
    publish = sub.add_parser("publish", help="print a run draw's seed, entries and winners as JSON")
    publish.add_argument("--draw", required=True)
    run = sub.add_parser("run", help="run a closed draw (reveals its seed); running it again changes nothing")
    run.add_argument("--draw", required=True)


def verify_file(path: str) -> int:
    """Exit 0 and print the winners when the file's seed, hash and winners agree; 1 and why otherwise."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        document = json.loads(text)
        winners = draws.verify(document if isinstance(document, dict) else {})
    except (OSError, ValueError, BadConfig) as exc:
        print(f"kiosk-cloud: draw NOT verified: {exc}", file=sys.stderr)
        return 1
    print(f"seed_hash_ok=1\ntickets={sum(int(e['entries']) for e in document['entries'])}\nwinners={len(winners)}")
    for w in winners:
        print(f"winner rank={w['rank']} member={w['member_id']} ticket={w['ticket_id']} prize={w['prize']}")
    return 0


def run(args: argparse.Namespace, store: "CloudStore") -> int:
    now = store.clock()
    with store.db.write() as conn:
        if args.draws_command == "run":
            winners = draws.run(conn, args.draw, actor="kiosk-cloud", now=now)
            print(f"winners={len(winners)}")
            return 0
        print(json.dumps(draws.published(conn, args.draw, now), indent=2, ensure_ascii=False))
    return 0
