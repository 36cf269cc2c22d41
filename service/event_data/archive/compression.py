"""Compressing batches for the archive, and reading any object the loader is handed.

Archives are standalone zstd frames (no dictionary): the archive is the system of record and
must stay readable with stock tools (``zstd -d``). Objects copied into the bucket by hand may be
plain JSON or gzip; the format is told from the bytes, not the key.
"""

from __future__ import annotations

import gzip
import zlib

import zstandard

ARCHIVE_ZSTD_LEVEL = 3
# Decompressed batches larger than this are refused: a guard against decompression bombs.
MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b"


class UnreadableArchive(ValueError):
    """The object's bytes are not a batch this service can read."""


def compress_batch(raw: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=ARCHIVE_ZSTD_LEVEL, write_checksum=True).compress(raw)


def decompress_object(data: bytes) -> bytes:
    """The raw batch bytes from an archived object of any supported format."""
    if data.startswith(_ZSTD_MAGIC):
        try:
            size = zstandard.frame_content_size(data)
            if size > MAX_DECOMPRESSED_BYTES:
                raise UnreadableArchive("zstd frame declares more than the size limit")
            out = _read_zstd(data)
        except zstandard.ZstdError as exc:
            raise UnreadableArchive(f"corrupt zstd data: {exc}") from exc
        if len(out) > MAX_DECOMPRESSED_BYTES:
            raise UnreadableArchive("decompressed batch exceeds the size limit")
        return out
    if data.startswith(_GZIP_MAGIC):
        try:
            decompressor = zlib.decompressobj(wbits=31)
            out = decompressor.decompress(data, MAX_DECOMPRESSED_BYTES + 1)
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise UnreadableArchive(f"corrupt gzip data: {exc}") from exc
        if len(out) > MAX_DECOMPRESSED_BYTES:
            raise UnreadableArchive("decompressed batch exceeds the size limit")
        return out
    return data


def _read_zstd(data: bytes) -> bytes:
    chunks: list[bytes] = []
    total = 0
    with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as reader:
        while chunk := reader.read(1024 * 1024):
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_DECOMPRESSED_BYTES:
                break
    return b"".join(chunks)
