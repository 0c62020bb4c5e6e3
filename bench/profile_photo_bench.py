"""Child photo processing: time and peak memory to re-encode a phone photo, and to refuse a
decompression bomb (a 20000 × 20000 PNG of ~100 kB).

Reproduce: ``make install && .venv/bin/python bench/profile_photo_bench.py [N]``. The inputs are made
in the parent; each case runs in a fresh child process so that its peak memory (``ru_maxrss``)
is its own. A 12-megapixel JPEG is decoded at a reduced scale (``draft``) before being
reduced to 800 pixels. Prints figures; never
fails.
"""

from __future__ import annotations

import io
import multiprocessing
import resource
import struct
import sys
import time
import zlib


def _phone_jpeg() -> bytes:
    from PIL import Image

    image = Image.effect_noise((4032, 3024), 60).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _bomb() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + 20000 // 8)
    idat = b"".join(compressor.compress(row) for _ in range(20000)) + compressor.flush()
    header = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _run(case: str, data: bytes, rounds: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from famille_core.errors import ValidationFailed
    from famille_plugins.profile.services.photos import reencode

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    outcome = ""
    for _ in range(rounds):
        try:
            outcome = f"{len(reencode(data, max_bytes=12_000_000, max_pixels=40_000_000, max_side=800))} bytes"
        except ValidationFailed as exc:
            outcome = f"refused ({exc.issues[0].code})"
    elapsed = (time.perf_counter() - start) / rounds
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    queue.put(f"{case:5} input {len(data) / 1e6:6.2f} MB -> {outcome:26} {elapsed * 1000:8.1f} ms  peak +{peak / 1024:6.1f} MB")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    for case, data in (("jpeg", _phone_jpeg()), ("bomb", _bomb())):
        process = multiprocessing.Process(target=_run, args=(case, data, rounds, queue))
        process.start()
        process.join()
        print(queue.get())


if __name__ == "__main__":
    main()
