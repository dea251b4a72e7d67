"""Pure image work: auto-enhance recipes, justified layouts, previews. Pillow and numpy only."""

from .enhance import auto_enhance
from .images import UnreadableImage, decode, encode_jpeg, rgb_icc_profile
from .previews import collage, edit_preview, highlight_cover
from .recipes import IDENTITY, apply_recipe

__all__ = [
    "IDENTITY", "UnreadableImage", "apply_recipe", "auto_enhance", "collage", "decode",
    "edit_preview", "encode_jpeg", "highlight_cover", "rgb_icc_profile",
]
