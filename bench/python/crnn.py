"""genre's CRNN in PyTorch (Python), with the same parameter names as the C++ model.

Used for the benchmark baselines and interop checks only; genre never needs Python at run time.
`genre export --state-dict` output loads into it: `load_genre_state_dict(path)`.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, pool, eps, dropout, activation="elu"):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout, eps=eps)
        self.pool = nn.MaxPool2d(tuple(pool))
        self.dropout = nn.Dropout(dropout)
        self.activation = F.relu if activation == "relu" else F.elu

    def forward(self, x):
        return self.dropout(self.pool(self.activation(self.bn(self.conv(x)))))


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
        elif self.input_norm == "global":
            self.input_bn = nn.BatchNorm2d(1, eps=eps)
        self.multi_label = arch.get("mode") == "multi_label"
        self.blocks = nn.ModuleList()
        cin = 1
        for cout, pool in zip(arch["channels"], arch["pools"]):
            self.blocks.append(ConvBlock(cin, cout, pool, eps, arch.get("conv_dropout", 0.1),
                                         arch.get("activation", "elu")))
            cin = cout
        self.gru = nn.GRU(cin, arch["gru_hidden"], num_layers=arch["gru_layers"], batch_first=True)
        self.final_dropout = nn.Dropout(arch.get("final_dropout", 0.3))
        self.output = nn.Linear(arch["gru_hidden"], arch["n_classes"])

    def normalized(self, x):
        if self.input_norm == "freq":
            return self.input_bn(x.transpose(1, 2)).transpose(1, 2)
        if self.input_norm == "global":
            return self.input_bn(x)
        return x

    def forward(self, x):
        x = self.normalized(x)
        for block in self.blocks:
            x = block(x)
        x = x.squeeze(2).transpose(1, 2)
        x, _ = self.gru(x)
        return self.output(self.final_dropout(x[:, -1]))

    def layer_features(self, x):
        """Each conv block's output averaged over frequency and time, the last GRU state and the
        output probabilities, concatenated (genre's CrnnImpl::layer_features)."""
        x = self.normalized(x)
        parts = []
        for block in self.blocks:
            x = block(x)
            parts.append(x.mean((2, 3)))
        x, _ = self.gru(x.squeeze(2).transpose(1, 2))
        state = x[:, -1]
        logits = self.output(state)
        parts += [state, torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, 1)]
        return torch.cat(parts, 1)


class TransferNet(nn.Module):
    """A genre transfer model: frozen backbones' layer features -> standardise -> dense layer."""

    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        self.backbones = nn.ModuleList([Crnn(b) for b in arch["backbones"]])
        size = sum(sum(b["channels"]) + b["gru_hidden"] + b["n_classes"] for b in arch["backbones"])
        self.register_buffer("feature_mean", torch.zeros(size))
        self.register_buffer("feature_scale", torch.ones(size))
        self.final_dropout = nn.Dropout(arch.get("final_dropout", 0.0))
        hidden = arch.get("head_hidden", 0)
        self.hidden = nn.Linear(size, hidden) if hidden else None
        self.output = nn.Linear(hidden or size, arch["n_classes"])

    def forward(self, x):
        features = torch.cat([b.layer_features(x) for b in self.backbones], 1)
        x = self.final_dropout((features - self.feature_mean) / self.feature_scale)
        if self.hidden is not None:
            x = self.final_dropout(torch.relu(self.hidden(x)))
        return self.output(x)


def default_arch(n_classes=10):
    return {"n_mels": 96, "n_classes": n_classes, "input_norm": "freq", "channels": [32, 64, 64, 128, 128],
            "pools": [[2, 2], [2, 2], [2, 2], [3, 3], [4, 4]], "bn_eps": 1e-5, "conv_dropout": 0.1,
            "gru_layers": 2, "gru_hidden": 32, "gru_type": "torch", "final_dropout": 0.3}


def load_genre_state_dict(path):
    """Builds the model from `genre export` output (PATH and PATH.json)."""
    with open(path + ".json") as f:
        meta = json.load(f)
    model = TransferNet(meta["arch"]) if meta["arch"].get("backbones") else Crnn(meta["arch"])
    state = torch.load(path)
    # LibTorch names GRU weights like PyTorch; BatchNorm's num_batches_tracked may be missing.
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    return model.eval(), meta
