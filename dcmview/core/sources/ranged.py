"""A remote file as the decoders read it: fsspec's buffered file (each read a byte-range
request, with a small read-ahead), whose network failures become :class:`RemoteReadFailed`
(a 502 for that one frame) instead of a decode error or a traceback."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from ..errors import DcmviewError, FileChanged, RemoteReadFailed
from . import failures


class Guarded:
    """Read-only, seekable; ``read``, ``readinto``, ``seek`` and ``tell`` as files have them."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.name = str(getattr(raw, "path", ""))
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._call(self._raw.read, size)
        self.bytes_read += len(data)
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        count = int(self._call(self._raw.readinto, buffer))
        self.bytes_read += count
        return count

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._raw.seek(offset, whence))

    def tell(self) -> int:
        return int(self._raw.tell())

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Guarded:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except DcmviewError:
            raise
        except Exception as exc:
            if failures.changed(exc):
                raise FileChanged(
                    f"{self.name} changed after it was listed; restart dcmview to read the "
                    "new version"
                ) from None
            raise RemoteReadFailed(f"cannot read {self.name}: {failures.reason(exc)}") from None
