"""On this day on the real stack: photos from today's date a year ago come back as a
highlight (found through the calendar-day index), published with `occasion: on_this_day`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gemroll_contracts import ON_THIS_DAY, SuggestionCreated

from .conftest import T0

pytestmark = pytest.mark.integration


async def test_photos_from_this_day_a_year_ago_come_back_as_a_memory(suggester) -> None:
    user = suggester.new_user()
    await suggester.consent(user, camera_roll=True, seq=1)
    today = datetime.now(UTC)
    year_ago = today.replace(year=today.year - 1, hour=10, minute=0, second=0, microsecond=0)
    minutes = (year_ago - T0).total_seconds() / 60
    shots = [await suggester.photo(user, minutes=minutes + 20 * i, seed=300 + i,
                                   gem_score=0.9 - 0.05 * i) for i in range(4)]
    await suggester.classified(*shots)
    items = await suggester.wait_for(
        user, lambda its: any(s.get("occasion") == ON_THIS_DAY for s in its), "a memory")
    [memory] = [s for s in items if s["occasion"] == ON_THIS_DAY]
    assert memory["kind"] == "highlight" and memory["title"].startswith("On this day, 1 year ago")
    assert set(memory["media_ids"]) <= {str(s.data.media_id) for s in shots}
    assert memory["preview_url"]
    created = await suggester.created(user, until=lambda es: any(
        e.data.occasion == ON_THIS_DAY for e in es))
    memories = [e for e in created if isinstance(e, SuggestionCreated)
                and e.data.occasion == ON_THIS_DAY]
    assert [str(e.data.suggestion_id) for e in memories] == [memory["id"]]
