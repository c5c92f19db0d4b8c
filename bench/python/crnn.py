"""genre's CRNN in PyTorch (Python), with the same parameter names as the C++ model.

Used for the benchmark baselines and interop checks only; genre never needs Python at run time.
`genre export --state-dict` output loads into it: `load_genre_state_dict(path)`.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, pool, eps, dropout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout, eps=eps)
        self.pool = nn.MaxPool2d(tuple(pool))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.pool(F.elu(self.bn(self.conv(x)))))


class Crnn(nn.Module):
    """The architecture config is the "arch" object of a genre model file (torch GRU variant)."""

    def __init__(self, arch):
        super().__init__()
        assert arch.get("gru_type", "torch") == "torch", "only the torch GRU variant is ported"
        self.arch = arch
        eps = arch.get("bn_eps", 1e-5)
        self.input_norm = arch.get("input_norm", "freq")
        if self.input_norm == "freq":
            self.input_bn = nn.BatchNorm2d(arch["n_mels"], eps=eps)
        self.blocks = nn.ModuleList()
        cin = 1
        for cout, pool in zip(arch["channels"], arch["pools"]):
            self.blocks.append(ConvBlock(cin, cout, pool, eps, arch.get("conv_dropout", 0.1)))
            cin = cout
        self.gru = nn.GRU(cin, arch["gru_hidden"], num_layers=arch["gru_layers"], batch_first=True)
        self.final_dropout = nn.Dropout(arch.get("final_dropout", 0.3))
        self.output = nn.Linear(arch["gru_hidden"], arch["n_classes"])

    def forward(self, x):
        if self.input_norm == "freq":
            x = self.input_bn(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        x = x.squeeze(2).transpose(1, 2)
        x, _ = self.gru(x)
        return self.output(self.final_dropout(x[:, -1]))


def default_arch(n_classes=10):
    return {"n_mels": 96, "n_classes": n_classes, "input_norm": "freq", "channels": [32, 64, 64, 128, 128],
            "pools": [[2, 2], [2, 2], [2, 2], [3, 3], [4, 4]], "bn_eps": 1e-5, "conv_dropout": 0.1,
            "gru_layers": 2, "gru_hidden": 32, "gru_type": "torch", "final_dropout": 0.3}


def load_genre_state_dict(path):
    """Builds the model from `genre export` output (PATH and PATH.json)."""
    with open(path + ".json") as f:
        meta = json.load(f)
    model = Crnn(meta["arch"])
    state = torch.load(path)
    # LibTorch names GRU weights like PyTorch; BatchNorm's num_batches_tracked may be missing.
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    return model.eval(), meta
