"""The one table of transfer syntaxes: how each is stored, what decodes it; the README reads it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class SyntaxSupport:
    uid: str
    name: str
    decoder: str  # "native", or the plugin that decodes it (pydicom's name after the dash)
    # How Pixel Data is stored: "<" or ">" for native samples at a known offset, "deflate" for
    # native samples inside one zlib stream (no offset), "" for encapsulated fragments.
    storage: str = ""

    @property
    def encapsulated(self) -> bool:
        return self.storage == ""


SUPPORTED: tuple[SyntaxSupport, ...] = (
    SyntaxSupport("1.2.840.10008.1.2", "Implicit VR Little Endian", "native", "<"),
    SyntaxSupport("1.2.840.10008.1.2.1", "Explicit VR Little Endian", "native", "<"),
    SyntaxSupport(
        "1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", "native", "deflate"
    ),
    SyntaxSupport("1.2.840.10008.1.2.2", "Explicit VR Big Endian", "native", ">"),
    SyntaxSupport("1.2.840.10008.1.2.5", "RLE Lossless", "pylibjpeg-rle"),
    SyntaxSupport("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", "pylibjpeg-libjpeg"),
    SyntaxSupport("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 and 4)", "pylibjpeg-libjpeg"),
    SyntaxSupport("1.2.840.10008.1.2.4.57", "JPEG Lossless (Process 14)", "pylibjpeg-libjpeg"),
    SyntaxSupport("1.2.840.10008.1.2.4.70", "JPEG Lossless SV1", "pylibjpeg-libjpeg"),
    SyntaxSupport("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", "pyjpegls"),
    SyntaxSupport("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless", "pyjpegls"),
    SyntaxSupport("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless", "pylibjpeg-openjpeg"),
    SyntaxSupport("1.2.840.10008.1.2.4.91", "JPEG 2000", "pylibjpeg-openjpeg"),
    SyntaxSupport("1.2.840.10008.1.2.4.201", "HTJ2K Lossless", "pylibjpeg-openjpeg"),
    SyntaxSupport("1.2.840.10008.1.2.4.202", "HTJ2K Lossless RPCL", "pylibjpeg-openjpeg"),
    SyntaxSupport("1.2.840.10008.1.2.4.203", "HTJ2K", "pylibjpeg-openjpeg"),
)

_BY_UID = {s.uid: s for s in SUPPORTED}


# Plugins that keep the GIL for the whole of a frame's decode, long enough to matter (10 ms for a
# 512² JPEG-LS frame to over a second for tomosynthesis): decoded in the worker processes
# (decoding.py), and one at a time when decoded in a thread (frames.py). RLE keeps it too, for
# ~1 ms a frame: not worth either.
GIL_HOLDING_DECODERS = frozenset({"pylibjpeg-openjpeg", "pylibjpeg-libjpeg", "pyjpegls"})


def syntax_name(uid: str) -> str:
    """A human name for a transfer syntax UID (pydicom's, else the UID itself)."""
    known = _BY_UID.get(uid)
    if known:
        return known.name
    from pydicom.uid import UID  # only for syntaxes outside the table

    name = UID(uid).name if uid else ""
    return name if name and name != uid else (uid or "unknown")


def is_encapsulated(uid: str) -> bool:
    """True when Pixel Data of this syntax is in fragments (unknown syntaxes are assumed to be)."""
    known = _BY_UID.get(uid)
    return known is None or known.encapsulated


def is_deflated(uid: str) -> bool:
    """True for the deflated syntax: the whole data set is one zlib stream, with no offsets."""
    known = _BY_UID.get(uid)
    return known is not None and known.storage == "deflate"


def native_byte_order(uid: str) -> str | None:
    """``"<"`` or ``">"`` for native samples that can be read at their offset, else None."""
    known = _BY_UID.get(uid)
    return known.storage if known is not None and known.storage in ("<", ">") else None


def decoder_of(uid: str) -> str | None:
    """The decoder column of the table for ``uid`` (None when dcmview does not decode it)."""
    known = _BY_UID.get(uid)
    return known.decoder if known else None


# Cached: every file list answer asks it of every file (15 µs a call uncached), and the
# installed decoders do not change while the process runs.
@cache
def is_supported(uid: str) -> bool:
    """True when this transfer syntax is in the table and its decoder is installed."""
    known = _BY_UID.get(uid)
    if known is None:
        return False
    if known.decoder == "native":
        return True  # numpy's: no plugin to look for (nor pydicom to import for that, ~0.25 s)
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    try:
        return bool(get_decoder(UID(uid)).is_available)
    except NotImplementedError:
        return False
