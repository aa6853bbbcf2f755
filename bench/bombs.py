"""Peak memory of the server answering decompression bombs inside the frame limit.

An 8 MiB RLE file decodes to a 16384 x 16384 16-bit frame: 512 MiB, the most one frame may
declare. This script serves two such files and reads the peak RSS (``VmHWM``, summed over the
server and its worker processes, sampled every 20 ms as ``bench/servers.py`` does) of a fresh
server for each scenario: one raw frame, one display PNG, and the display PNGs of both files
asked for at once. It prints one Markdown table; nothing in ``tests/`` is timed or measured.

    python bench/bombs.py                      # this checkout
    python bench/bombs.py --root /path/to/other/checkout   # the same, for another version

The files (16 MiB) are written to ``~/.cache/dcmview-bench/bombs`` (``--data-dir``).
"""

from __future__ import annotations

import argparse
import struct
import sys
import threading
from pathlib import Path

import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import RLELossless, generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.servers import REPO, Client, Server, ours

SIDE = 16384  # 16384² x 2 bytes = 512 MiB, the frame limit (frames.MAX_FRAME_BYTES)
MIB = 1024 * 1024


def rle_bomb(path: Path) -> Path:
    """A 16-bit 16384 x 16384 RLE frame of zeros: two segments of 128-byte runs (~8 MiB)."""
    segment = b"\x81\x00" * (SIDE * SIDE // 128)  # each byte plane: runs of 128 zero bytes
    header = struct.pack("<16I", 2, 64, 64 + len(segment), *([0] * 13))
    frame = header + segment + segment
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.PatientID = "BOMB"
    ds.Modality = "OT"
    ds.Rows = ds.Columns = SIDE
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = pydicom.encaps.encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _request(server: Server, path: str, out: list[int]) -> None:
    client = Client(server.port)
    try:
        out.append(client.get(path).status)
    finally:
        client.close()


def scenario(root: Path, files: list[Path], paths: list[str]) -> tuple[list[int], int, int]:
    """Statuses, peak summed VmHWM and settled VmRSS of a fresh server asked ``paths`` at once."""
    with Server(ours(root=root), files) as server:
        server.wait_loaded()
        statuses: list[int] = []
        threads = [threading.Thread(target=_request, args=(server, p, statuses)) for p in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rss, hwm = server.memory()
        return statuses, hwm, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="the dcmview checkout to run")
    parser.add_argument(
        "--data-dir", type=Path, default=Path.home() / ".cache" / "dcmview-bench" / "bombs"
    )
    args = parser.parse_args()
    files = []
    for name in ("bomb_a.dcm", "bomb_b.dcm"):
        target = args.data_dir / name
        files.append(target if target.exists() else rle_bomb(target))
    size = sum(f.stat().st_size for f in files) / len(files) / MIB
    print(f"| scenario ({size:.1f} MiB RLE files) | statuses | peak RSS | RSS after |")
    print("|---|---|---|---|")
    for name, paths in (
        ("one raw frame", ["/api/file/0/frame/0/raw"]),
        ("one display PNG", ["/api/file/0/frame/0"]),
        ("two display PNGs at once", ["/api/file/0/frame/0", "/api/file/1/frame/0"]),
        ("two raw frames at once", ["/api/file/0/frame/0/raw", "/api/file/1/frame/0/raw"]),
    ):
        statuses, hwm, rss = scenario(args.root, files, paths)
        print(
            f"| {name} | {', '.join(map(str, sorted(statuses)))} | {hwm / MIB:,.0f} MiB "
            f"| {rss / MIB:,.0f} MiB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
