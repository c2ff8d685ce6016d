"""The reference's `sam2 segment`: what a user of the official package writes to get mask files.

    python segment_reference.py IMAGE CHECKPOINT CONFIG X Y OUTPUT_DIR [--threads N]

Loads the model with the official builder, predicts three masks for one foreground click and
writes OUTPUT_DIR/mask_K.png (0/255). Used by compare_bench.py to time process start to mask files.
"""
import os
import sys


def main():
    image_path, checkpoint, config, x, y, out = sys.argv[1:7]
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else None
    import numpy as np
    import torch
    from PIL import Image
    from sam2.build_sam import build_sam2
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import random_checkpoint as rc

    if threads:
        torch.set_num_threads(threads)
    model = build_sam2(rc.CONFIG_FILES[config], checkpoint, device="cpu")
    predictor = SAM2ImagePredictor(model)
    image = np.array(Image.open(image_path).convert("RGB"))
    with torch.inference_mode():
        predictor.set_image(image)
        masks, scores, _ = predictor.predict(point_coords=np.array([[float(x), float(y)]]), point_labels=np.array([1]),
                                             multimask_output=True)
    os.makedirs(out, exist_ok=True)
    for k, m in enumerate(masks):
        Image.fromarray((m > 0).astype(np.uint8) * 255).save(os.path.join(out, f"mask_{k}.png"))


if __name__ == "__main__":
    main()
