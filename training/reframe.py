"""Re-frame the FER2013 faces the way the running node frames a detected face.

    python training/reframe.py --data /path/to/images --out runs/reframed.npz

Each 48x48 face is upscaled and edge-replicated into a larger frame (``face_in_frame``), the
face_detector node's detector (fer_ros.face_tracking.search defaults) searches it, the detection on
the face is cropped with the node's crop (fer_ros.face_crop.node_crop) and turned into the
model input as the emotion node does (fer_ros.preprocessing.to_model_input): the training
face becomes what the node would send for it.  Where the detector finds no face the
original stays.  The framing error left (the detector's box jitters from frame to frame)
is what training's shift/zoom/rotation augmentation covers.

The result is a dataset file (``training.data.load_dataset`` reads it): every split's
images and labels, which faces were re-framed, and the class names.  It is a cache: build
it outside the repository; an existing file is reused (``--force`` rebuilds it).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from fer_ros.face_crop import node_crop
from fer_ros.face_tracking.search import make_face_detector
from fer_ros.preprocessing import to_model_input
from training import scenes
from training.data import IMAGE_SIZE, Split, load_dataset, save_reframed

UPSCALE = 4
FRAME = 384


def face_in_frame(face48: np.ndarray) -> np.ndarray:
    """A bgr8 FRAME x FRAME frame with the face, upscaled UPSCALE x, at its centre (the
    border repeats the face's edge pixels)."""
    big = cv2.resize(face48, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
    pad = (FRAME - big.shape[0]) // 2
    frame = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


#: where the face lies in ``face_in_frame``'s frame, for matching a detection to it
FACE_IN_FRAME = scenes.Scene(None, FRAME / 2, FRAME / 2, IMAGE_SIZE * UPSCALE, 0.0)


def reframe_face(face48: np.ndarray, detector, crop=node_crop):
    """(48x48 uint8 face as the node would send it, True), or (the face itself, False)
    when the detector does not find it.  ``crop``: the node's crop (another one to compare)."""
    frame = face_in_frame(face48)
    det = scenes.find_face(FACE_IN_FRAME, detector.detect(frame))
    if det is None:
        return face48, False
    return to_model_input([crop(frame, det)])[0, :, :, 0].astype(np.uint8), True


def reframe_split(split: Split, detector=None, progress=None) -> tuple:
    """(re-framed images, found mask) of a split; ``progress(done, total)`` now and then."""
    detector = make_face_detector({}) if detector is None else detector
    images = np.empty_like(split.images)
    found = np.zeros(len(split), bool)
    for i, face in enumerate(split.images):
        images[i], found[i] = reframe_face(face, detector)
        if progress and (i + 1) % 2000 == 0:
            progress(i + 1, len(split))
    return images, found


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="FER2013 dataset (see training/data.py)")
    parser.add_argument("--out", required=True, help="the re-framed dataset file (.npz)")
    parser.add_argument("--force", action="store_true", help="rebuild an existing --out")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"{out} exists: reused (--force rebuilds it)")
        return 0
    detector = make_face_detector({})
    splits, found = {}, {}
    for name, split in load_dataset(args.data).items():
        images, found[name] = reframe_split(
            split, detector, lambda done, total, name=name: print(
                f"{name}: {done}/{total}", flush=True))
        splits[name] = Split(images, split.labels, split.class_names)
        print(f"{name}: {found[name].sum()} of {len(split)} faces re-framed "
              f"({found[name].mean():.1%}); the others kept as they were", flush=True)
    save_reframed(out, splits, found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
