"""Python pipeline for bench_predict: the same job as `genre predict` over a list of files.

torchaudio decode + mono + Resample(-> the model's rate) + MelSpectrogram + AmplitudeToDB, as the
model's feature config says (12 kHz Slaney mels with top_db 80 for the CRNN, 16 kHz HTK mels for a
transfer model), the middle excerpt, the same CRNN and weights in PyTorch, the same crop averaging,
batched, 2 threads, channels_last. Prints one JSON line per file on stdout.
"""
import json
import sys
import time

import torch
import torchaudio

from crnn import load_genre_state_dict

model, meta = load_genre_state_dict(sys.argv[1])
# channels_last: PyTorch's faster CPU convolution layout (the baseline runs at its best)
model = model.to(memory_format=torch.channels_last)
paths = [line.strip() for line in open(sys.argv[2]) if line.strip()]
torch.set_num_threads(2)
fc = meta["features"]
excerpt = fc["excerpt_samples"]
crop = meta["arch"].get("input_frames", 0)
mel = torchaudio.transforms.MelSpectrogram(sample_rate=fc["sample_rate"], n_fft=fc["n_fft"], hop_length=fc["hop_length"],
                                           n_mels=fc["n_mels"], f_min=fc["fmin"], f_max=fc["fmax"],
                                           norm=None if fc.get("mel_norm") == "none" else "slaney",
                                           mel_scale=fc.get("mel_scale", "slaney"), center=True,
                                           pad_mode=fc.get("pad_mode", "constant"))
to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=fc["top_db"] if fc["top_db"] > 0 else None)
resamplers = {}


def features(path):
    wave, sr = torchaudio.load(path)
    y = wave.mean(0)
    if sr != fc["sample_rate"]:
        if sr not in resamplers:
            resamplers[sr] = torchaudio.transforms.Resample(sr, fc["sample_rate"])
        y = resamplers[sr](y)
    start = max(0, (y.numel() - excerpt) // 2)
    y = torch.nn.functional.pad(y[start:start + excerpt], (0, max(0, excerpt - (y.numel() - start))))
    return to_db(mel(y))


def windows(spec):
    frames = spec.shape[-1]
    if crop <= 0 or crop >= frames:
        return spec.unsqueeze(0)
    hop = max(1, crop // 2)
    offsets = list(range(0, frames - crop + 1, hop))
    if offsets[-1] + crop < frames:
        offsets.append(frames - crop)
    return torch.stack([spec[:, o:o + crop] for o in offsets])


front_end_s = model_s = 0.0
with torch.inference_mode():
    for path in paths:
        t0 = time.perf_counter()
        w = windows(features(path)).unsqueeze(1).contiguous(memory_format=torch.channels_last)
        t1 = time.perf_counter()
        probs = torch.softmax(model(w), 1).mean(0)
        t2 = time.perf_counter()
        front_end_s += t1 - t0
        model_s += t2 - t1
        print(json.dumps({"input": path, "label": meta["classes"][int(probs.argmax())]}))
n = max(1, len(paths))
print(f"python stages: front end {front_end_s:.2f} s ({1000 * front_end_s / n:.1f} ms/track), "
      f"model {model_s:.2f} s ({1000 * model_s / n:.1f} ms/track)", file=sys.stderr)
