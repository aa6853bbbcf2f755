"""Peak memory of the server answering decompression bombs inside the frame limit.

An 8 MiB RLE file decodes to a 16384 x 16384 16-bit frame: 512 MiB, the most one frame may
declare. This script serves two such files and reads the peak RSS (``VmHWM``, summed over the
server and its worker processes, sampled every 20 ms as ``bench/servers.py`` does) of a fresh
server for each scenario, and the same for a 6 MiB JPEG baseline file declaring a
32768 x 16384 8-bit frame (also 512 MiB), and for the largest RLE frame the budget lets
through (9920², one and two at once). It prints one Markdown table; nothing in ``tests/`` is
timed or measured.

    python bench/bombs.py                      # this checkout
    python bench/bombs.py --root /path/to/other/checkout   # the same, for another version

The files (~28 MiB; the JPEG ones need ``imagecodecs``) are written to
``~/.cache/dcmview-bench/bombs`` (``--data-dir``).
"""

from __future__ import annotations

import argparse
import struct
import sys
import threading
import time
from pathlib import Path

import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import JPEGBaseline8Bit, RLELossless, generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.servers import REPO, Client, Server, ours

SIDE = 16384  # 16384² x 2 bytes = 512 MiB, the frame limit (frames.MAX_FRAME_BYTES)
ALLOWED_SIDE = 9920  # x 5.5 (the RLE decoder's peak, in frames) stays under 1088 MiB
MIB = 1024 * 1024


def rle_bomb(path: Path, side: int = SIDE) -> Path:
    """A 16-bit side x side RLE frame of 0x5555 (not zeros: untouched zero pages would not
    count): two segments of 128-byte runs (8 MiB for 16384²)."""
    segment = b"\x81\x55" * (side * side // 128)  # each byte plane: runs of 128 bytes
    header = struct.pack("<16I", 2, 64, 64 + len(segment), *([0] * 13))
    return _write(path, RLELossless, header + segment + segment, rows=side, bits=16, side=side)


def rle_allowed(path: Path) -> Path:
    """The largest RLE frame the memory budget lets through: 9920² 16-bit (188 MiB)."""
    return rle_bomb(path, ALLOWED_SIDE)


def _write(
    path: Path, syntax: str, frame: bytes, *, rows: int, bits: int, side: int = SIDE
) -> Path:
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.PatientID = "BOMB"
    ds.Modality = "OT"
    ds.Rows, ds.Columns = rows, side
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pydicom.encaps.encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def jpeg_bomb(path: Path) -> Path:
    """An 8-bit 32768 x 16384 JPEG baseline frame of zeros (512 MiB decoded, ~6 MiB stored);
    needs ``imagecodecs`` to write."""
    import imagecodecs
    import numpy as np

    stream = imagecodecs.jpeg8_encode(np.zeros((2 * SIDE, SIDE), np.uint8), level=90)
    return _write(path, JPEGBaseline8Bit, stream, rows=2 * SIDE, bits=8)


def _request(server: Server, path: str, out: list[int]) -> None:
    client = Client(server.port)
    try:
        out.append(client.get(path).status)
    finally:
        client.close()


def scenario(root: Path, files: list[Path], names: list[str], suffix: str) -> tuple[list[int], int]:
    """Statuses and peak summed VmHWM of a fresh server asked for frame 0 of each file named,
    all at once (``suffix`` "/raw" or "" for the PNG). A small JPEG frame is shown first and
    the workers are given time to start, so compressed bombs go where frames usually go."""
    with Server(ours(root=root), files) as server:
        server.wait_loaded()
        index = {
            Path(f["path"]).name: f["index"] for f in server.client.json("/api/files")["files"]
        }
        server.client.get(f"/api/file/{index['small.dcm']}/frame/0")
        time.sleep(3)
        statuses: list[int] = []
        paths = [f"/api/file/{index[name]}/frame/0{suffix}" for name in names]
        threads = [threading.Thread(target=_request, args=(server, p, statuses)) for p in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return statuses, server.memory()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="the dcmview checkout to run")
    parser.add_argument(
        "--data-dir", type=Path, default=Path.home() / ".cache" / "dcmview-bench" / "bombs"
    )
    args = parser.parse_args()
    files = []
    for name, write in (
        ("rle_max.dcm", rle_bomb),
        ("rle_max_b.dcm", rle_bomb),
        ("rle_a.dcm", rle_allowed),
        ("rle_b.dcm", rle_allowed),
        ("jpeg_a.dcm", jpeg_bomb),
        ("small.dcm", small_jpeg),
    ):
        target = args.data_dir / name
        files.append(target if target.exists() else write(target))
    print("| scenario | statuses | peak RSS (server + workers) |")
    print("|---|---|---|")
    scenarios = [
        ("RLE 16384² (512 MiB), one raw frame", ["rle_max.dcm"], "/raw"),
        ("RLE 16384² (512 MiB), one display PNG", ["rle_max.dcm"], ""),
        ("RLE 16384² (512 MiB), two raw frames at once", ["rle_max.dcm", "rle_max_b.dcm"], "/raw"),
        ("RLE 16384² (512 MiB), two display PNGs at once", ["rle_max.dcm", "rle_max_b.dcm"], ""),
        ("JPEG 32768x16384 8-bit (512 MiB), one raw frame", ["jpeg_a.dcm"], "/raw"),
        ("RLE 9920² (188 MiB), one raw frame", ["rle_a.dcm"], "/raw"),
        ("RLE 9920² (188 MiB), two raw frames at once", ["rle_a.dcm", "rle_b.dcm"], "/raw"),
        ("RLE 9920² (188 MiB), one display PNG", ["rle_a.dcm"], ""),
        ("RLE 9920² (188 MiB), two display PNGs at once", ["rle_a.dcm", "rle_b.dcm"], ""),
    ]
    for label, names, suffix in scenarios:
        statuses, hwm = scenario(args.root, files, names, suffix)
        print(
            f"| {label} | {', '.join(map(str, sorted(statuses)))} | {hwm / MIB:,.0f} MiB |",
            flush=True,
        )


def small_jpeg(path: Path) -> Path:
    """A 64 x 48 JPEG frame: shown first, it starts the worker processes."""
    from tests import dicomgen as gen

    return gen.write_syntax(path.parent, JPEGBaseline8Bit, kind="grey8", name=path.name).path


if __name__ == "__main__":
    main()
