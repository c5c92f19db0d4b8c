"""PyTorch (Python) baseline for bench_model: training and inference samples/s of the default
CRNN at 96 x FRAMES, batch B, T threads. Prints JSON: {"train": .., "train_channels_last": ..,
"train_bf16": .., "infer": ..}; infer is the faster of the default layout and channels_last;
train_bf16 is channels_last under bf16 autocast (0 when the CPU has no AVX512-BF16 or AMX)."""
import json
import sys
import time

import torch

from crnn import Crnn, default_arch

frames = int(sys.argv[1]) if len(sys.argv) > 1 else 1366
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 32
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
torch.set_num_threads(threads)
torch.manual_seed(0)


def train_rate(channels_last, bf16=False):
    model = Crnn(default_arch())
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 96, frames)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))
    model.train()
    for i in range(steps + 1):
        if i == 1:
            t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0)


def infer_rate(channels_last=False):
    model = Crnn(default_arch()).eval()
    x = torch.randn(batch, 1, 96, frames)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    with torch.inference_mode():
        model(x)
        t0 = time.perf_counter()
        for _ in range(steps):
            model(x)
    return steps * batch / (time.perf_counter() - t0)


def bf16_rate():
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "").split()
    if "avx512_bf16" not in flags and "amx_bf16" not in flags:
        return 0.0  # emulated: ten times slower than fp32, not worth timing
    try:
        return train_rate(True, bf16=True)
    except RuntimeError:
        return 0.0


print(json.dumps({"train": train_rate(False), "train_channels_last": train_rate(True),
                  "train_bf16": bf16_rate(), "infer": max(infer_rate(), infer_rate(True))}))
