"""The image encoder on the runtimes a CPU user would pick instead of ours, for compare_bench.py --peers.

The reference's encoder as SAM2ImagePredictor.set_image runs it (forward_image, the backbone features
prepared, no_mem_embed added: image_embed and the two high-resolution maps) is exported to ONNX the
way a user would (torch.onnx.export, opset 17, fixed 1024² input) and timed, on the same preprocessed
input and thread count, under ONNX Runtime fp32 and OpenVINO fp32 and bf16 (INFERENCE_PRECISION_HINT),
next to the reference itself in fp32 and under torch.autocast("cpu", bfloat16). Each output's
relative L2 against the reference fp32 is reported with the time.
"""
import os
import statistics
import time

import numpy as np
import torch

OUTPUTS = ("image_embed", "high_res_0", "high_res_1")


class Encoder(torch.nn.Module):
    """set_image's computation from the normalised 1024² batch to the three feature maps."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        model = self.model
        backbone_out = model.forward_image(x)
        _, vision_feats, _, feat_sizes = model._prepare_backbone_features(backbone_out)
        if model.directly_add_no_mem_embed:
            vision_feats[-1] = vision_feats[-1] + model.no_mem_embed
        feats = [f.permute(1, 2, 0).reshape(1, -1, *size) for f, size in zip(vision_feats, feat_sizes)]
        return feats[2], feats[0], feats[1]


def median_ms(run, repeat):
    run()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def relative_errors(outputs, reference):
    return [float(np.linalg.norm(np.asarray(o, np.float64) - r) / np.linalg.norm(r)) for o, r in zip(outputs, reference)]


def measure(model, image, threads, repeat, workdir):
    """[(runtime, encoder ms, [rel L2 per output vs reference fp32])] on one preprocessed image."""
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    torch.set_num_threads(threads)
    encoder = Encoder(model).eval()
    x = SAM2ImagePredictor(model)._transforms(image)[None]
    results = []
    with torch.inference_mode():
        reference = [t.double().numpy() for t in encoder(x)]
        results.append(("PyTorch eager fp32", median_ms(lambda: encoder(x), repeat), [0.0, 0.0, 0.0]))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = [t.float().numpy() for t in encoder(x)]
            results.append(("PyTorch bf16 autocast", median_ms(lambda: encoder(x), repeat),
                            relative_errors(out, reference)))

    path = os.path.join(workdir, "encoder.onnx")
    with torch.no_grad():
        torch.onnx.export(encoder, (x,), path, input_names=["image"], output_names=list(OUTPUTS), opset_version=17,
                          dynamo=False)
    feed = x.numpy()

    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    out = session.run(None, {"image": feed})
    results.append((f"ONNX Runtime {ort.__version__} fp32", median_ms(lambda: session.run(None, {"image": feed}), repeat),
                    relative_errors(out, reference)))

    import openvino as ov
    core = ov.Core()
    for hint in ("f32", "bf16"):
        compiled = core.compile_model(path, "CPU", {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": hint})
        request = compiled.create_infer_request()
        result = request.infer({0: feed})
        out = [result[compiled.output(i)] for i in range(3)]
        results.append((f"OpenVINO {ov.__version__.split('-')[0]} {'fp32' if hint == 'f32' else 'bf16'}",
                        median_ms(lambda: request.infer({0: feed}), repeat), relative_errors(out, reference)))
    return results
