"""Face boxes through the suggester on the real stack: stored with the photo, and the edit it
suggests never straightens (or crops) a face out of the frame."""

from __future__ import annotations

import asyncpg
import pytest
from gemroll_contracts import FaceBox, MediaClassified

pytestmark = pytest.mark.integration

CORNER = FaceBox(left=0.0, top=0.0, right=0.08, bottom=0.12, probability=0.99)


def _with_faces(event: MediaClassified, faces: list[FaceBox]) -> MediaClassified:
    data = event.data.model_copy(update={"face_count": len(faces), "faces": faces})
    return event.model_copy(update={"data": data})


async def test_edits_keep_known_faces_in_frame(suggester):
    user = suggester.new_user()
    tilted = {"seed": 6, "tilt_degrees": 5.0, "subject": None, "hills": 0, "exposure": -1.4}
    plain = _with_faces(await suggester.photo(user, minutes=0, **tilted), [])
    framed = _with_faces(await suggester.photo(user, minutes=600, **tilted), [CORNER])
    await suggester.classified(plain, framed)

    def two_edits(items):
        return len([s for s in items if s["kind"] == "edit"]) == 2

    items = await suggester.wait_for(user, two_edits, "an edit of each photo")
    recipe = {s["media_ids"][0]: s["recipe"] for s in items if s["kind"] == "edit"}
    assert recipe[str(plain.data.media_id)]["rotate_degrees"] == pytest.approx(-5.0, abs=0.6)
    assert recipe[str(framed.data.media_id)]["rotate_degrees"] == 0  # would trim the face
    assert recipe[str(framed.data.media_id)]["exposure"] > 0.5  # still an edit

    conn = await asyncpg.connect(suggester.env.database.url.get_secret_value())
    try:
        rows = await conn.fetch(
            f"SELECT media_id, face_count, face_boxes FROM {suggester.settings.db_schema}.media"
            " WHERE media_id = ANY($1::uuid[])", [plain.data.media_id, framed.data.media_id])
    finally:
        await conn.close()
    stored = {r["media_id"]: (r["face_count"], r["face_boxes"]) for r in rows}
    assert stored[plain.data.media_id] == (0, [])
    assert stored[framed.data.media_id] == (1, [0.0, 0.0, 0.08, 0.12])
