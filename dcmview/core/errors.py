"""Errors as values: every failure the API can report has a stable code and an HTTP status.

The router turns a :class:`DcmviewError` into ``{"code": ..., "error": ...}`` with its status; the
message is written for the user (what went wrong, what to do next) and never holds a host path or
a traceback.
"""

from __future__ import annotations


class DcmviewError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``status`` is the HTTP status."""

    code = "error"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DcmviewError):
    code = "not_found"
    status = 404


class FrameOutOfRange(DcmviewError):
    code = "frame_out_of_range"
    status = 404


class NoPixelData(DcmviewError):
    code = "no_pixel_data"
    status = 404


class NoShutter(DcmviewError):
    code = "no_shutter"
    status = 404


class InvalidQuery(DcmviewError):
    code = "invalid_query"
    status = 400


class InvalidWindow(DcmviewError):
    code = "invalid_window"
    status = 400


class InvalidJson(DcmviewError):
    code = "invalid_json"
    status = 400


class InvalidAnnotation(DcmviewError):
    code = "invalid_annotation"
    status = 400


class UnsupportedMediaType(DcmviewError):
    code = "unsupported_media_type"
    status = 415


class PayloadTooLarge(DcmviewError):
    code = "payload_too_large"
    status = 413


class PreconditionFailed(DcmviewError):
    code = "precondition_failed"
    status = 412


class MethodNotAllowed(DcmviewError):
    code = "method_not_allowed"
    status = 405


class UnsupportedTransferSyntax(DcmviewError):
    code = "unsupported_transfer_syntax"
    status = 422


class PixelDecodeFailed(DcmviewError):
    code = "pixel_decode_failed"
    status = 422


class FrameTooLarge(DcmviewError):
    """The header declares a frame larger than the decode limit (a decompression bomb guard)."""

    code = "frame_too_large"
    status = 422


class FileChanged(DcmviewError):
    """A loaded file is no longer what discovery read (rewritten, replaced or removed)."""

    code = "file_changed"
    status = 409


def is_lasting(exc: BaseException) -> bool:
    """True for a failure that asking again would meet again: a 4xx about the file's own data
    or header (a damaged frame, a frame too large, a file changed on disk), not about the moment
    (a busy or stopping server)."""
    return isinstance(exc, DcmviewError) and 400 <= exc.status < 500


class RemoteReadFailed(DcmviewError):
    """A remote file (object storage, a web or DICOMweb server) could not be read now:
    unreachable, refused (403), gone (404) or too slow. The server is not at fault."""

    code = "remote_read_failed"
    status = 502
