"""torchaudio baseline for bench_features: ms per track for each stage, as JSON on stdout.

torchaudio.load + Resample(sr -> 12000) + MelSpectrogram(norm='slaney', mel_scale='slaney')
+ AmplitudeToDB, on one thread, median of repeated runs. Both wall and CPU time (process_time)
are reported: the machine is shared, and CPU time is what another job's load disturbs least.
Which BLAS torch multiplies with (the mel product is a matmul) is up to the caller's
LD_LIBRARY_PATH; bench_features runs this once per BLAS it finds and keeps the fastest.
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
wall, cpu = {}, {}


def timed(name, fn, *args):
    walls, cpus = [], []
    # Untimed calls first: torch's allocator and the page cache settle (torchaudio.load of a WAV
    # takes ~7 ms on its first calls and ~1.2 ms after).
    for _ in range(3):
        out = fn(*args)
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn(*args)
        cpus.append((time.process_time() - c0) * 1000)
        walls.append((time.perf_counter() - w0) * 1000)
    wall[name], cpu[name] = statistics.median(walls), statistics.median(cpus)
    return out


wave, sr = timed("decode", torchaudio.load, path)
mono = wave.mean(0, keepdim=True)
y = timed("resample", resample, mono)
excerpt = y[:, : 349440]
m = timed("stft_mel", mel, excerpt)
timed("log", to_db, m)


def total():
    w, _ = torchaudio.load(path)
    return to_db(mel(resample(w.mean(0, keepdim=True))[:, :349440]))


timed("total", total)
print(json.dumps({"wall": wall, "cpu": cpu}))
