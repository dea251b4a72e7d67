"""gemroll suggester: edits, highlights and collages made from a user's gems.

Consumes MediaClassified (plus consent changes and deletions), groups gems into events,
and once an event is quiet publishes SuggestionCreated on `gemroll.suggestions.v1`;
owners act on suggestions over HTTP (see `api`).
"""
