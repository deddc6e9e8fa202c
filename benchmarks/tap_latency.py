"""Tap latency of each emulated serial reader: last byte written to the pty -> CardRead in the sink.

Runs the real driver (pyserial on a pty, decoder, debounce, reader thread) for
each device kind and prints one ``name=value`` line per figure, in milliseconds.
Goal: p99 < 5 ms.

    /work/venv/bin/python benchmarks/tap_latency.py [--taps 1000]
"""
from __future__ import annotations

import argparse
import queue
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.card_formats import CardFormats  # noqa: E402
from drivers.emulated.pty import FRAME_ENCODERS  # noqa: E402
from drivers.events import CardRead, ReaderState, ReaderStatus  # noqa: E402
from drivers.magstripe import MagstripeFormat, format_swipe  # noqa: E402
from drivers.registry import open_reader  # noqa: E402

FORMATS = CardFormats(magstripe=MagstripeFormat(2, r"77(?P<id>\d{10})"), barcode_pattern=r"LC(?P<id>\d{8})")


def card_for(kind: str, n: int) -> str:
    """A distinct card per tap, so debounce never hides one."""
    return {
        "rdm6300": f"{n:010X}",
        "em4100-hex": f"{n:010X}",
        "em4100-dec": f"{n:010d}",
        "magstripe": format_swipe("LCHAIN^MEMBER^", f"77{n:010d}"),
        "barcode": f"LC{n:08d}",
    }[kind]


def measure(kind: str, taps: int) -> list[float]:
    arrived: queue.Queue[tuple[float, object]] = queue.Queue()

    def sink(event: object) -> None:
        arrived.put((time.perf_counter(), event))

    latencies = []
    with open_reader(f"emulated:{kind}", sink, formats=FORMATS).start() as reader:
        while True:
            _, event = arrived.get(timeout=5)
            if isinstance(event, ReaderStatus) and event.state is ReaderState.CONNECTED:
                break
        for n in range(1, taps + 1):
            frame = FRAME_ENCODERS[kind](card_for(kind, n))
            # Taken just before the single os.write of the whole frame: the figure includes
            # the write syscall, so it is an upper bound on last-byte-to-event time (taking
            # it after the write can race the reader thread and under-count).
            written = time.perf_counter()
            reader.emulator.write(frame)
            while True:
                at, event = arrived.get(timeout=5)
                if isinstance(event, CardRead):
                    break
            latencies.append((at - written) * 1000)
    return latencies




def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=1000)
    args = parser.parse_args()
    for kind in ("rdm6300", "em4100-hex", "em4100-dec", "magstripe", "barcode"):
        values = measure(kind, args.taps)
        name = kind.replace("-", "_")
        print(f"tap_latency_{name}_p50_ms={statistics.median(values):.3f}")
        print(f"tap_latency_{name}_p99_ms={p99(values):.3f}")
        print(f"tap_latency_{name}_min_ms={min(values):.3f}")
        print(f"tap_latency_{name}_max_ms={max(values):.3f}")
        print(f"tap_latency_{name}_taps={len(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
