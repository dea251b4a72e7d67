"""The suggester's use cases: intake of consumed events (`intake`, with `placement`),
planning suggestions (`planning`, with `previews`), and the user's reads and actions
(`user_actions`, with `renditions`, and `recaps`: a highlight's recap movie). Each is given
its `Deps`."""

from .deps import Deps

__all__ = ["Deps"]
