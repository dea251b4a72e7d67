"""The demo's HTML report: gems, junk by reason, suggestions with previews, and per item
whether it may be used for training and why."""

from .images import write_jpeg, write_placeholder
from .model import DemoReport, Item, Suggestion, Training, VideoView
from .render import reason_label, render

__all__ = ["DemoReport", "Item", "Suggestion", "Training", "VideoView", "reason_label", "render",
           "write_jpeg", "write_placeholder"]
