"""Share links without I/O: when a link opens (`domain.sharing`), what it shows, and the
public pages' rate limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from gemroll_contracts import SuggestionKind
from gemroll_suggester.domain import ActionName, Consent, SuggestionStatus
from gemroll_suggester.domain.sharing import Closed, closed_because, new_link, shared_photos
from gemroll_suggester.share_api import RateLimit

from .conftest import T0
from .test_suggester_domain import suggestion

SHARED = frozenset({ActionName.share})
DAY = timedelta(days=1)


def opted_in(user_key: str, camera_roll: bool = True) -> Consent:
    return Consent(user_key, camera_roll, 1, T0)


def test_a_link_opens_only_while_everything_still_holds():
    s = suggestion(SuggestionKind.highlight, SuggestionStatus.shared, actions=SHARED)
    link = new_link("t" * 32, s, T0, DAY)
    consent = opted_in(s.user_key)
    assert closed_because(link, s, consent, T0 + timedelta(hours=1)) is None
    cases = {
        Closed.unknown: (None, s, consent, T0),
        Closed.revoked: (replace(link, revoked_at=T0), s, consent, T0),
        Closed.expired: (link, s, consent, T0 + DAY),
        Closed.not_shared: (link, replace(s, actions=frozenset()), consent, T0),
        Closed.opted_out: (link, s, opted_in(s.user_key, False), T0),
    }
    for expected, args in cases.items():
        assert closed_because(*args) is expected, expected
    assert closed_because(link, None, consent, T0) is Closed.not_shared  # deleted
    withdrawn = replace(s, status=SuggestionStatus.withdrawn)
    assert closed_because(link, withdrawn, consent, T0) is Closed.not_shared
    someone_else = replace(s, user_key="d" * 32 if s.user_key != "d" * 32 else "e" * 32)
    assert closed_because(link, someone_else, consent, T0) is Closed.not_shared
    assert closed_because(link, s, None, T0) is Closed.opted_out  # no consent known: closed


@pytest.mark.parametrize(("kind", "photos"), [
    (SuggestionKind.highlight, 3), (SuggestionKind.collage, 0), (SuggestionKind.edit, 0)])
def test_only_a_highlight_shows_its_photos_one_by_one(kind, photos):
    s = suggestion(kind, SuggestionStatus.shared, actions=SHARED)
    assert len(shared_photos(s)) == photos


def test_the_rate_limit_allows_per_minute_per_client_and_recovers():
    limit = RateLimit(3)
    assert [limit.retry_after("a", now=t) for t in (0, 1, 2)] == [None, None, None]
    assert limit.retry_after("a", now=3) == pytest.approx(57)
    assert limit.retry_after("b", now=3) is None  # another client is not held back
    assert limit.retry_after("a", now=60.5) is None  # the first request left the window
    bounded = RateLimit(1, max_clients=2)
    for client in ("x", "y", "z"):  # memory stays bounded under many addresses
        bounded.retry_after(client, now=0)
    assert len(bounded._seen) <= 2  # noqa: SLF001
