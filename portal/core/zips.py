"""ZIP archives written as a stream: each member is read chunk by chunk and each written chunk goes
out at once, so an archive of any size is built in bounded memory (a download, or the bytes a job
stores)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Iterator


class _Sink(io.RawIOBase):
    """An unseekable file that hands over what was written (zipfile then writes data descriptors)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


Member = tuple[str, bytes | Iterable[bytes]]


def stream(members: Iterable[Member]) -> Iterator[bytes]:
    """The archive's bytes, as ``members`` (name, bytes or chunks) are produced."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in [content] if isinstance(content, bytes) else content:
                    member.write(chunk)
                    data = sink.take()
                    if data:
                        yield data
            yield sink.take()
    yield sink.take()


def as_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str).encode()
