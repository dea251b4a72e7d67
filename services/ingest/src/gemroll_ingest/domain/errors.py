"""Why an ingest request is refused. Each error has a stable `code` clients can act on."""

from __future__ import annotations


class IngestError(Exception):
    """A refusal with a stable machine-readable code and a readable message."""

    code = "ingest_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedMediaType(IngestError):
    code = "unsupported_media_type"


class TooLarge(IngestError):
    code = "too_large"


class EmptyFile(IngestError):
    code = "empty_file"


class InvalidImage(IngestError):
    """Corrupt or truncated image data."""

    code = "invalid_image"


class TooManyPixels(IngestError):
    """A decompression bomb: more pixels than the configured limit."""

    code = "too_many_pixels"


class InvalidMetadata(IngestError):
    code = "invalid_metadata"


class InvalidRequest(IngestError):
    code = "invalid_request"


class ConsentRequired(IngestError):
    code = "consent_required"


class MediaNotFound(IngestError):
    code = "not_found"


class UploadNotFound(IngestError):
    code = "upload_not_found"


class UploadExpired(IngestError):
    code = "upload_expired"


class UploadIncomplete(IngestError):
    """`complete` was called before the file was PUT to the presigned URL."""

    code = "upload_incomplete"


class UploadClosed(IngestError):
    """The upload already failed; start a new one."""

    code = "upload_closed"


class UploadInProgress(IngestError):
    """The same bytes are being stored right now by a concurrent request; retry shortly."""

    code = "upload_in_progress"


class InvalidCursor(IngestError):
    code = "invalid_cursor"


class StorageUnavailable(IngestError):
    code = "storage_unavailable"


class StorageFull(StorageUnavailable):
    """The object store has no room left: nothing was kept; retry once space is freed."""

    code = "storage_full"


class MultipartRequired(IngestError):
    code = "multipart_required"


class UnsupportedCodec(UnsupportedMediaType):
    """A video container this service takes, holding a codec it does not."""

    code = "unsupported_codec"


class InvalidVideo(IngestError):
    """Corrupt or truncated video data: no container FFmpeg reads, or no frame that decodes."""

    code = "invalid_video"


class VideoTooLong(IngestError):
    code = "video_too_long"
