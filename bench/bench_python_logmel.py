#!/usr/bin/python3
"""Benchmark (not a test): genre.logmel against the Python front ends, in one Python process.

    PYTHONPATH=build/python /usr/bin/python3 bench/bench_python_logmel.py [N] [--threads T]

Log-mel excerpts ([96, 1366]: decode, mono, resample to 12 kHz, middle 29.12 s, mel power, dB
with top_db 80) of N clips (default 100; the GTZAN clips of $GENRE_SHARED, else the examples),
each pipeline timed over the same files, tracks per second and ratios printed.
  - genre.logmel(path, excerpt=True), one call at a time;
  - the same over T Python threads (genre releases the GIL while it decodes and computes);
  - torchaudio 0.13 (load + Resample + MelSpectrogram(norm/mel_scale slaney) + AmplitudeToDB),
    one torch thread, and over T Python threads (torch releases the GIL in its ops too);
  - librosa (load(sr=12000) + melspectrogram + power_to_db) when it is installed;
and the log-mel stage alone (a decoded 12 kHz excerpt in, [96, 1366] out), genre against
torchaudio. Each pipeline runs once over all files before it is timed (warm page cache).
"""
import argparse
import glob
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import genre

EXCERPT = 349440  # samples at 12 kHz: 1366 frames


def clips(n):
    shared = os.environ.get("GENRE_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    files = sorted(glob.glob(os.path.join(shared, "gtzan", "*", "*.flac")))
    if not files:
        here = os.path.join(os.path.dirname(__file__), "..", "examples")
        files = sorted(glob.glob(os.path.join(here, "*.wav")) + glob.glob(os.path.join(here, "*.flac")))
    if not files:
        sys.exit("no clips: set GENRE_SHARED or run scripts/make-examples")
    return (files * (n // len(files) + 1))[:n]


def genre_logmel(path):
    return genre.logmel(path, excerpt=True)


def torchaudio_pipeline():
    import torch
    import torchaudio

    torch.set_num_threads(1)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=12000, n_fft=512, hop_length=256, n_mels=96,
                                               norm="slaney", mel_scale="slaney", center=True,
                                               pad_mode="constant")
    to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0)
    resamplers = {}

    def logmel(path):
        wave, sr = torchaudio.load(path)
        if sr not in resamplers:
            resamplers[sr] = torchaudio.transforms.Resample(sr, 12000)
        y = resamplers[sr](wave.mean(0, keepdim=True))[0]
        start = max(0, (y.shape[0] - EXCERPT) // 2)
        x = torch.nn.functional.pad(y[start:start + EXCERPT], (0, max(0, EXCERPT - (y.shape[0] - start))))
        return to_db(mel(x)).numpy()

    return logmel


def librosa_pipeline():
    try:
        import librosa
    except ImportError:
        return None

    def logmel(path):
        y, _ = librosa.load(path, sr=12000, mono=True)
        start = max(0, (len(y) - EXCERPT) // 2)
        x = np.pad(y[start:start + EXCERPT], (0, max(0, EXCERPT - (len(y) - start))))
        s = librosa.feature.melspectrogram(y=x, sr=12000, n_fft=512, hop_length=256, n_mels=96)
        return librosa.power_to_db(s, ref=1.0, amin=1e-10, top_db=80.0)

    return logmel


def tracks_per_second(fn, files, threads):
    def run():
        if threads == 1:
            return [fn(f) for f in files]
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(fn, files))

    run()  # warm-up: page cache, FFT plans, resampler kernels
    t0 = time.perf_counter()
    out = run()
    seconds = time.perf_counter() - t0
    assert all(o.shape == (96, 1366) for o in out), "unexpected log-mel shape"
    return len(files) / seconds


def feature_stage_ms(repeats=50):
    """ms per excerpt of the log-mel stage alone (no decoding): genre and torchaudio, 1 thread."""
    import torch
    import torchaudio

    y = genre.load(clips(1)[0], sr=12000)[:EXCERPT]
    x = torch.from_numpy(y)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=12000, n_fft=512, hop_length=256, n_mels=96,
                                               norm="slaney", mel_scale="slaney")
    to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0)

    def ms(fn):
        fn()
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - t0) / repeats * 1000

    return ms(lambda: genre.logmel(y)), ms(lambda: to_db(mel(x)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    files = clips(args.n)
    print(f"{len(files)} clips ({len({os.path.basename(f) for f in files})} distinct), "
          f"{args.threads} threads for the threaded rows, python {sys.version.split()[0]}")

    torchaudio_logmel = torchaudio_pipeline()
    rows = [("genre.logmel, 1 thread", tracks_per_second(genre_logmel, files, 1)),
            (f"genre.logmel, {args.threads} Python threads",
             tracks_per_second(genre_logmel, files, args.threads)),
            ("torchaudio, 1 thread", tracks_per_second(torchaudio_logmel, files, 1)),
            (f"torchaudio, {args.threads} Python threads",
             tracks_per_second(torchaudio_logmel, files, args.threads))]
    librosa_logmel = librosa_pipeline()
    if librosa_logmel:
        rows.append(("librosa, 1 thread", tracks_per_second(librosa_logmel, files, 1)))
    else:
        print("librosa is not installed for this Python: no librosa row")

    print(f"{'file -> log-mel excerpt':40} {'tracks/s':>9}")
    for name, rate in rows:
        print(f"{name:40} {rate:9.1f}")
    print(f"ratio genre / torchaudio (tracks/s): 1 thread {rows[0][1] / rows[2][1]:.2f}x, "
          f"{args.threads} threads {rows[1][1] / rows[3][1]:.2f}x")
    if librosa_logmel:
        print(f"ratio genre / librosa, 1 thread: {rows[0][1] / rows[4][1]:.2f}x")
    genre_ms, torchaudio_ms = feature_stage_ms()
    print(f"log-mel stage alone (12 kHz excerpt in): genre {genre_ms:.2f} ms, torchaudio "
          f"{torchaudio_ms:.2f} ms, ratio {torchaudio_ms / genre_ms:.1f}x")


if __name__ == "__main__":
    main()
