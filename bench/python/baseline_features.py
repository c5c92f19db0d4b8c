"""torchaudio baseline for bench_features: ms per track for each stage, as JSON on stdout.

torchaudio.load + Resample(22050 -> 12000) + MelSpectrogram(norm='slaney', mel_scale='slaney')
+ AmplitudeToDB, on one thread, median of repeated runs.
"""
import json
import statistics
import sys
import time

import torch
import torchaudio

path = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 20
torch.set_num_threads(1)

wave, sr = torchaudio.load(path)
resample = torchaudio.transforms.Resample(sr, 12000)
mel = torchaudio.transforms.MelSpectrogram(sample_rate=12000, n_fft=512, hop_length=256, n_mels=96,
                                           norm="slaney", mel_scale="slaney", center=True, pad_mode="constant")
to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0)


def timed(fn, *args):
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


decode_ms, (wave, sr) = timed(torchaudio.load, path)
mono = wave.mean(0, keepdim=True)
resample_ms, y = timed(resample, mono)
excerpt = y[:, : 349440]
mel_ms, m = timed(mel, excerpt)
log_ms, _ = timed(to_db, m)


def total():
    w, _ = torchaudio.load(path)
    return to_db(mel(resample(w.mean(0, keepdim=True))[:, :349440]))


total_ms, _ = timed(total)
print(json.dumps({"decode": decode_ms, "resample": resample_ms, "stft_mel": mel_ms, "log": log_ms, "total": total_ms}))
