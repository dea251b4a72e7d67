"""Face detection with MTCNN (facenet-pytorch): boxes, probabilities and 5 landmarks.

The P-, R- and O-Net weights are the files inside the facenet-pytorch wheel
(`facenet_pytorch/data/{pnet,rnet,onet}.pt`, loaded by its `PNet()`, `RNet()`, `ONet()`);
nothing is downloaded. Its face *recognition* model (InceptionResnetV1) is never built: faces
are detected, not identified.

The cascade is facenet-pytorch's (its networks and its box helpers), driven here for speed
on one small image: the pyramid is resized with Pillow (BOX, i.e. area averaging, chained
level to level), candidate crops are cut with Pillow (zero padding past the border, as in the
original MTCNN) and all nets run channels_last (its max pools are ~5x faster so). Each call
uses one intra-op thread: the caller's thread pool gives the parallelism, and two OpenMP
teams per image on the same cores cost 5-10x as much (measured). Loads on first use.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PIL import Image

from ..domain.faces import Face, face_from_pixels

# Tuned on the analysis image (long side ~448 px), see services/classifier/README.md, Faces:
# * min_face_size 36 px: the first pyramid level is 12/36 of the image, and the P-Net pass
#   over it is most of the cost (20 px, the library's default, costs ~3x as much). 36 px is
#   8 % of the long side, 10-13 % of the short one: a face at arm's length or in a group of
#   a few; smaller ones are specks that the counting floor (domain.faces.MIN_SIZE) drops.
# * factor 0.6 between pyramid levels (library: 0.709): 5 levels instead of 8; P-Net's
#   12-px window still matches faces within its trained scale range, the real photos'
#   faces are all found at 0.6.
# * thresholds (0.6, 0.7, 0.9): the library's first two (recall, cheap nets), a stricter
#   O-Net one against textures (0.7 lets bark and fabric through); counting applies
#   domain.faces.MIN_PROBABILITY on top.
MIN_FACE_SIZE = 36
FACTOR = 0.6
THRESHOLDS = (0.6, 0.7, 0.9)

_local = threading.local()


def _norm(torch: Any, batch: Any, device: str) -> Any:
    """uint8 N x H x W x 3 (numpy) -> normalised float N x 3 x H x W, channels_last."""
    tensor = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float()
    return ((tensor - 127.5) * 0.0078125).contiguous(memory_format=torch.channels_last)


def _crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Square boxes (x0, y0, x1, y1, inclusive pixels) cut out and resized to size x size;
    what lies past the border is black."""
    h, w = rgb.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.uint8)
    for i, (x0, y0, x1, y1) in enumerate(boxes[:, :4].astype(np.int64).tolist()):
        x1, y1 = x1 + 1, y1 + 1
        ax0, ay0, ax1, ay1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if ax1 <= ax0 or ay1 <= ay0 or x1 <= x0 or y1 <= y0:
            continue
        if (ax0, ay0, ax1, ay1) == (x0, y0, x1, y1):
            patch = rgb[y0:y1, x0:x1]
        else:
            patch = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
            patch[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0] = rgb[ay0:ay1, ax0:ax1]
        out[i] = np.asarray(Image.fromarray(np.ascontiguousarray(patch)).resize(
            (size, size), Image.Resampling.BILINEAR))
    return out


class MtcnnFaceDetector:
    """The face detector port: `detect(rgb) -> tuple[Face, ...]` (blocking; thread-safe)."""

    name = "mtcnn"
    version = "facenet-pytorch-2.6.0"

    def __init__(self, *, device: str = "cpu", min_face_size: int = MIN_FACE_SIZE,
                 factor: float = FACTOR,
                 thresholds: tuple[float, float, float] = THRESHOLDS) -> None:
        self._device = device
        self.min_face_size = min_face_size
        self.factor = factor
        self.thresholds = thresholds
        self._lock = threading.Lock()
        self._nets: tuple[Any, Any, Any] | None = None
        self._openmp = False

    @property
    def loaded(self) -> bool:
        return self._nets is not None

    def load(self) -> None:
        if self._nets is not None:
            return
        with self._lock:
            if self._nets is not None:
                return
            import torch
            from facenet_pytorch.models.mtcnn import ONet, PNet, RNet

            nets = tuple(net.eval().to(self._device, memory_format=torch.channels_last)
                         for net in (PNet(pretrained=True), RNet(pretrained=True),
                                     ONet(pretrained=True)))
            self._openmp = "parallel backend: OpenMP" in torch.__config__.parallel_info()
            self._nets = nets  # type: ignore[assignment]

    def _one_thread(self, torch: Any) -> None:
        """This worker thread's torch ops run on one OpenMP thread. torch.set_num_threads
        sets the calling thread's team size and the process default for threads that have not
        used torch yet; the default goes back (set from a throwaway thread) so that the image
        model's thread keeps its configured count."""
        if self._device != "cpu" or not self._openmp or getattr(_local, "pinned", False):
            return
        default = torch.get_num_threads()
        torch.set_num_threads(1)
        if default != 1:
            restore = threading.Thread(target=torch.set_num_threads, args=(default,))
            restore.start()
            restore.join()
        _local.pinned = True

    def detect(self, rgb: np.ndarray) -> tuple[Face, ...]:
        """Faces in an H x W x 3 uint8 image, largest first."""
        import torch

        self.load()
        self._one_thread(torch)
        h, w = rgb.shape[:2]
        if min(h, w) < 12:
            return ()
        with torch.inference_mode():
            boxes, points = self._cascade(torch, np.ascontiguousarray(rgb, dtype=np.uint8))
        faces = [face_from_pixels(box[:4], float(box[4]), pts, w, h)
                 for box, pts in zip(boxes, points, strict=True)]
        faces.sort(key=lambda f: (-f.area, -f.probability))
        return tuple(faces)

    def _cascade(self, torch: Any, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from facenet_pytorch.models.utils.detect_face import (
            bbreg,
            generateBoundingBox,
            nms_numpy,
            rerec,
        )
        from torchvision.ops import nms

        assert self._nets is not None
        pnet, rnet, onet = self._nets
        dev, (t1, t2, t3) = self._device, self.thresholds
        none = (np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32))
        h, w = rgb.shape[:2]

        # stage 1: P-Net over the pyramid (scale 12/min_face_size down to a 12-px short side)
        scale, scales = 12.0 / self.min_face_size, []
        while min(h, w) * scale >= 12:
            scales.append(scale)
            scale *= self.factor
        level, found = Image.fromarray(rgb), []
        for scale in scales:
            level = level.resize((int(w * scale + 1), int(h * scale + 1)),
                                 Image.Resampling.BOX)
            reg, probs = pnet(_norm(torch, np.array(level)[None], dev))
            cand, _ = generateBoundingBox(reg, probs[:, 1], scale, t1)
            if len(cand):
                found.append(cand[nms(cand[:, :4], cand[:, 4], 0.5)])
        if not found:
            return none
        cand = torch.cat(found)
        cand = cand[nms(cand[:, :4], cand[:, 4], 0.7)]
        bw, bh = cand[:, 2] - cand[:, 0], cand[:, 3] - cand[:, 1]
        boxes = torch.stack([cand[:, 0] + cand[:, 5] * bw, cand[:, 1] + cand[:, 6] * bh,
                             cand[:, 2] + cand[:, 7] * bw, cand[:, 3] + cand[:, 8] * bh,
                             cand[:, 4]], dim=1)
        boxes = rerec(boxes).trunc()

        # stage 2: R-Net refines the candidates
        reg, probs = rnet(_norm(torch, _crops(rgb, boxes.cpu().numpy(), 24), dev))
        keep = probs[:, 1] > t2
        if not bool(keep.any()):
            return none
        boxes = torch.cat([boxes[keep, :4], probs[keep, 1:2]], dim=1)
        pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
        boxes = rerec(bbreg(boxes[pick], reg[keep][pick])).trunc()

        # stage 3: O-Net decides, with landmarks
        reg, marks, probs = onet(_norm(torch, _crops(rgb, boxes.cpu().numpy(), 48), dev))
        keep = probs[:, 1] > t3
        if not bool(keep.any()):
            return none
        boxes = torch.cat([boxes[keep, :4], probs[keep, 1:2]], dim=1)
        reg, marks = reg[keep], marks[keep]
        bw, bh = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        points = torch.stack([bw[:, None] * marks[:, :5] + boxes[:, 0:1] - 1,
                              bh[:, None] * marks[:, 5:] + boxes[:, 1:2] - 1], dim=2)
        boxes = bbreg(boxes, reg).cpu().numpy()
        pick = nms_numpy(boxes[:, :4], boxes[:, 4], 0.7, "Min")  # as facenet-pytorch does
        return boxes[pick], points.cpu().numpy()[pick]
