#!/usr/bin/python3
"""Reference outputs of a sota-music-tagging-models CRNN, computed as its own code does.

The model below is the CRNN of minzwon/sota-music-tagging-models (training/model.py, MIT),
written out here so that the test does not depend on that repository: torchaudio's
MelSpectrogram (16 kHz, n_fft 512, hop 256, HTK mel 0-8 kHz, reflect padding) and AmplitudeToDB,
BatchNorm2d(1), four conv/BN/ReLU/max-pool blocks, a 2-layer GRU read at its last step, a dense
layer with sigmoid. The weights (window and mel matrix included) come from the state_dict.

Usage: sota_crnn_reference.py WEIGHTS.pth OUT.json SIGNAL.f32...
Each SIGNAL.f32 is a raw little-endian float32 16 kHz mono signal. OUT.json gets, per signal,
the 50 probabilities and the log-mel's shape.
"""
import json
import sys

import numpy as np
import torch
import torchaudio
from torch import nn


class Conv2d(nn.Module):
    def __init__(self, input_channels, output_channels, pooling):
        super().__init__()
        self.conv = nn.Conv2d(input_channels, output_channels, 3, stride=1, padding=1)
        self.bn = nn.BatchNorm2d(output_channels)
        self.relu = nn.ReLU()
        self.mp = nn.MaxPool2d(pooling)

    def forward(self, x):
        return self.mp(self.relu(self.bn(self.conv(x))))


class CRNN(nn.Module):
    def __init__(self, n_class=50):
        super().__init__()
        self.spec = torchaudio.transforms.MelSpectrogram(
            sample_rate=16000, n_fft=512, f_min=0.0, f_max=8000.0, n_mels=96)
        self.to_db = torchaudio.transforms.AmplitudeToDB()
        self.spec_bn = nn.BatchNorm2d(1)
        self.layer1 = Conv2d(1, 64, pooling=2)
        self.layer2 = Conv2d(64, 128, pooling=3)
        self.layer3 = Conv2d(128, 128, pooling=4)
        self.layer4 = Conv2d(128, 128, pooling=4)
        self.layer5 = nn.GRU(128, 32, 2, batch_first=True)
        self.dropout = nn.Dropout(0.5)
        self.dense = nn.Linear(32, n_class)

    def forward(self, x):
        x = self.to_db(self.spec(x)).unsqueeze(1)
        x = self.spec_bn(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = x.squeeze(2).permute(0, 2, 1)
        x, _ = self.layer5(x)
        x = x[:, -1, :]
        return torch.sigmoid(self.dense(self.dropout(x)))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    weights, out_path, signals = sys.argv[1], sys.argv[2], sys.argv[3:]
    state = torch.load(weights, map_location="cpu")
    model = CRNN(n_class=state["dense.weight"].shape[0])
    model.load_state_dict(state)
    model.eval()
    torch.set_num_threads(1)
    results = []
    with torch.no_grad():
        for path in signals:
            x = torch.from_numpy(np.fromfile(path, dtype="<f4").copy()).unsqueeze(0)
            probs = model(x)[0]
            results.append({"signal": path, "probabilities": probs.tolist()})
    with open(out_path, "w") as f:
        json.dump({"torch": torch.__version__, "torchaudio": torchaudio.__version__,
                   "results": results}, f)


if __name__ == "__main__":
    main()
