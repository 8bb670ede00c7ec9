"""Blobs: the bytes of files in transit, kept until every delivery that carries them is done."""

from __future__ import annotations

from sqlalchemy import insert, select

from bot.model import Attachment, BlobId, FileData
from bot.storage.engine import Queries
from bot.storage.tables import blobs


class BlobQueries(Queries):
    """Saving and loading file bytes."""

    async def save_file(self, file: FileData) -> Attachment:
        """Keep a file's bytes until every delivery that carries it is done."""
        result = await self._c.execute(
            insert(blobs).values(name=file.name, mime_type=file.mime_type, data=file.data, created_at=self.now)
        )
        blob_id = BlobId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key
        return Attachment(name=file.name, mime_type=file.mime_type, size=len(file.data), blob_id=blob_id)

    async def load_file(self, attachment: Attachment) -> FileData | None:
        """The bytes behind an attachment, or None if it has none stored."""
        if attachment.blob_id is None:
            return None
        row = (await self._c.execute(select(blobs.c.data).where(blobs.c.id == attachment.blob_id))).first()
        return None if row is None else FileData(attachment.name, attachment.mime_type, bytes(row.data))
