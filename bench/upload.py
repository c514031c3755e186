"""Selfie intake benchmark: time and memory of the upload request's intake, ``images.check_selfie``.

    .venv/bin/python bench/upload.py [--runs 15]

Target: a 12-megapixel JPEG and a HEIC selfie accepted or refused by the upload request in under
400 ms each, peak memory under 200 MB above the process baseline. A JPEG is validated, oriented,
stripped and normalised in the request; a HEIC is checked there without decoding and normalised
by the pipeline's submit step (``received_selfies``), whose cost is shown on the split lines.

The inputs are built here: scikit-image's astronaut cropped to 4:3, upscaled to 4032x3024 with
photographic grain, tagged with EXIF orientation 6 (rotate 90°, as a phone held upright writes
it), a GPS-bearing EXIF block and an sRGB ICC profile, so every step of the intake runs
(validation, DCT-scaled decode, ICC to sRGB, orientation, metadata stripped, JPEG encode). The
HEIC is the same picture encoded by pillow-heif (x265, quality 60, about 4 MB), twice: as a grid
of 512x512 tiles, the way an iPhone writes it (case ``heic``), and as one 4032x3024 picture
(case ``heic-1``). pillow-heif resets EXIF orientation to 1 when it saves, so the HEIC cases do
not exercise the rotation (pillow-heif applies a HEIC's own rotation on decode anyway).

Each case runs in a fresh subprocess so that its memory figures start from a clean interpreter:
the baseline is the resident size after imports and after the input's bytes are in memory; the
peak is the kernel's resident high-water mark (VmHWM, reset through /proc/self/clear_refs where
the kernel allows it) during the first, cold call; tracemalloc's peak (Python and Pillow buffers
allocated through Python's allocator; Pillow's image memory is malloc'd and not seen) is taken on
a separate call. Then ``--runs`` timed calls give the median and 90th percentile. For HEIC the
submit step's normalisation is timed too, split into libheif's decode and the rest, and the
decode is repeated with one decoder thread to show how much the second core buys.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from machine import cpu_model  # noqa: E402  (bench/ is on the path)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 400
TARGET_MB = 200
MAX_BYTES = 15 * 1024 * 1024  # settings.SELFIE_MAX_UPLOAD_BYTES' default
SIZE = (4032, 3024)


# ---------------------------------------------------------------------------- inputs


def _picture():
    import numpy as np
    from PIL import Image
    from skimage import data

    face = Image.fromarray(data.astronaut()).crop((0, 40, 512, 424))  # 4:3
    big = np.asarray(face.resize(SIZE, Image.Resampling.BICUBIC), dtype=np.int16)
    rng = np.random.default_rng(8)
    grain = rng.normal(0, 6, size=(SIZE[1], SIZE[0], 1)).astype(np.int16)  # luminance grain
    grain = grain + rng.normal(0, 2, size=(SIZE[1], SIZE[0], 3)).astype(np.int16)  # and chroma
    return Image.fromarray(np.clip(big + grain, 0, 255).astype(np.uint8))


def _exif():
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)
    gps[3], gps[4] = "E", (2.0, 17.0, 40.0)
    return exif


def build_inputs(directory: Path) -> dict[str, Path]:
    import pillow_heif
    from PIL import ImageCms

    pillow_heif.register_heif_opener()
    picture = _picture()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    paths = {
        "jpeg": directory / "selfie-12mp.jpg",
        "heic": directory / "selfie-12mp-grid.heic",
        "heic-1": directory / "selfie-12mp-single.heic",
    }
    picture.save(paths["jpeg"], "JPEG", quality=92, exif=_exif(), icc_profile=icc)
    # As an iPhone writes it: a grid of 512x512 HEVC tiles, which libheif decodes in parallel.
    pillow_heif.options.GRID_TILE_SIZE = 512
    picture.save(paths["heic"], "HEIF", quality=60, exif=_exif())
    # As other encoders may write it: one 4032x3024 HEVC picture, decoded by one thread.
    pillow_heif.options.GRID_TILE_SIZE = 0
    picture.save(paths["heic-1"], "HEIF", quality=60, exif=_exif())
    return paths


# ---------------------------------------------------------------------------- child


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        return False
    return True


def child(path: Path, runs: int) -> dict:
    from avatar_studio.avatars.images import check_selfie

    data = path.read_bytes()
    baseline_kb = _status_kb("VmRSS")
    reset = _reset_peak()
    started = time.perf_counter()
    result = check_selfie(io.BytesIO(data), max_bytes=MAX_BYTES)
    cold_ms = (time.perf_counter() - started) * 1000
    peak_kb = _status_kb("VmHWM")

    tracemalloc.start()
    check_selfie(io.BytesIO(data), max_bytes=MAX_BYTES)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        check_selfie(io.BytesIO(data), max_bytes=MAX_BYTES)
        times.append((time.perf_counter() - started) * 1000)

    out = {
        "bytes": len(data),
        "out_size": f"{result.width}x{result.height}",
        "out_bytes": len(result.content),
        "kept": type(result).__name__,
        "cold_ms": cold_ms,
        "times": times,
        "baseline_mb": baseline_kb / 1024,
        "peak_above_mb": (peak_kb - baseline_kb) / 1024,
        "peak_reset": reset,
        "traced_mb": traced_peak / 2**20,
    }
    if path.suffix == ".heic":
        out.update(_heic_split(data, runs))
    return out


def _heic_split(data: bytes, runs: int) -> dict:
    """What the submit step spends normalising a received HEIC: libheif's full-size decode
    (default threads, then one thread), and the rest (shrink, colour, orientation, JPEG encode)."""
    import pillow_heif
    from PIL import Image

    from avatar_studio.avatars import images

    def split_ms() -> tuple[list[float], list[float]]:
        decode, rest = [], []
        for _ in range(runs):
            started = time.perf_counter()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                decoded = time.perf_counter()
                images._normalise(image)
            decode.append((decoded - started) * 1000)
            rest.append((time.perf_counter() - decoded) * 1000)
        return decode, rest

    threads = pillow_heif.options.DECODE_THREADS
    split = {"decode_threads": threads}
    split["decode"], split["rest"] = split_ms()
    pillow_heif.options.DECODE_THREADS = 1
    split["decode_1_thread"], _ = split_ms()
    pillow_heif.options.DECODE_THREADS = threads
    split["thumbnails"] = pillow_heif.open_heif(io.BytesIO(data)).info.get("thumbnails") or []
    return split


# ---------------------------------------------------------------------------- parent


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def run_child(path: Path, runs: int) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--runs", str(runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if completed.returncode:
        sys.exit(f"{path.name}: the child failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.runs)))
        return

    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        paths = build_inputs(Path(tmp))
        results = {name: run_child(path, args.runs) for name, path in paths.items()}
    print(
        f"inputs: {SIZE[0]}x{SIZE[1]} astronaut with grain, EXIF orientation 6 + GPS, "
        f"{args.runs} timed runs each, one fresh process per case"
    )
    print()
    header = (
        f"{'case':<6}{'input MB':>9}{'output':>11}{'cold ms':>9}{'median ms':>11}{'p90 ms':>8}"
        f"{'RSS peak MB':>13}{'traced MB':>11}{'base MB':>9}  target"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        median = statistics.median(r["times"])
        met = p90(r["times"]) < TARGET_MS and r["peak_above_mb"] < TARGET_MB
        print(
            f"{name:<6}{r['bytes'] / 2**20:>9.1f}{r['out_size']:>11}{r['cold_ms']:>9.0f}"
            f"{median:>11.0f}{p90(r['times']):>8.0f}{r['peak_above_mb']:>13.0f}"
            f"{r['traced_mb']:>11.1f}{r['baseline_mb']:>9.0f}  {'met' if met else 'MISSED'}"
        )
    print(
        "kept by the request: "
        + ", ".join(f"{name} {r['kept']}" for name, r in results.items())
        + " (ReceivedHeic: checked without decoding, normalised by the submit step)"
    )
    print()
    for name in ("heic", "heic-1"):
        heic = results[name]
        print(
            f"{name} submit step (not in the request): libheif full-size decode median "
            f"{statistics.median(heic['decode']):.0f} ms (p90 {p90(heic['decode']):.0f}) with "
            f"DECODE_THREADS={heic['decode_threads']}, "
            f"{statistics.median(heic['decode_1_thread']):.0f} ms with 1 thread; the rest of the "
            f"normalisation median {statistics.median(heic['rest']):.0f} ms; embedded thumbnails: "
            f"{heic['thumbnails'] or 'none'}"
        )
    if not all(r["peak_reset"] for r in results.values()):
        print("note: VmHWM could not be reset; RSS peak includes the import-time high-water mark")
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        f"target: p90 < {TARGET_MS} ms and RSS peak < {TARGET_MB} MB above the baseline "
        "(RSS peak = cold first call, VmHWM minus VmRSS before it)"
    )


if __name__ == "__main__":
    main()
