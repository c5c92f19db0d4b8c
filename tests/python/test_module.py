"""The Python module `genre` against the C++ CLI and librosa's reference outputs.

Run by CTest with /usr/bin/python3 and PYTHONPATH=build/python (tests/CMakeLists.txt); needs the
environment variables GENRE_BINARY and GENRE_SOURCE_DIR, and GENRE_SHARED for the librosa parity
check (skipped without it). Exit status 77 (CTest: skipped) when numpy is missing.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import unittest

try:
    import numpy as np
except ImportError:
    print("skipped: numpy is not installed for", sys.executable)
    sys.exit(77)

import genre

SOURCE = os.environ["GENRE_SOURCE_DIR"]
BINARY = os.environ["GENRE_BINARY"]
SHARED = os.environ.get("GENRE_SHARED", os.path.join(SOURCE, "..", "shared"))
MODEL = os.path.join(SOURCE, "models", "genre-gtzan.pt")
CRNN = os.path.join(SOURCE, "models", "genre-crnn.pt")
EXAMPLES = sorted(glob.glob(os.path.join(SOURCE, "examples", "*.wav")) +
                  glob.glob(os.path.join(SOURCE, "examples", "*.flac")))
# tests/features/test_parity.cpp's tolerances against librosa 0.10.2.
SIGNAL_TOLERANCE = 1e-5
LOGMEL_TOLERANCE_DB = 0.01


def genre_cli(*args):
    """Runs the genre CLI; returns (exit status, stdout, stderr)."""
    p = subprocess.run([BINARY, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def require_examples(test):
    if not EXAMPLES:
        test.skipTest("no example clips: run scripts/make-examples")


class Logmel(unittest.TestCase):
    def setUp(self):
        require_examples(self)

    def features_cli(self, whole):
        with tempfile.TemporaryDirectory() as out:
            status, _, err = genre_cli("features", "-q", *EXAMPLES, "-o", out,
                                       *(["--whole"] if whole else []))
            self.assertEqual(status, 0, err)
            return {f: np.load(os.path.join(out, os.path.splitext(os.path.basename(f))[0] + ".npy"))
                    for f in EXAMPLES}

    def test_bit_identical_to_genre_features(self):
        for whole in (False, True):
            for path, expected in self.features_cli(whole).items():
                got = genre.logmel(path, excerpt=not whole)
                self.assertEqual(got.dtype, np.float32)
                self.assertEqual(got.shape, expected.shape, path)
                self.assertTrue(np.array_equal(got, expected), f"{path} whole={whole}")

    def test_signal_input_equals_path_input(self):
        y = genre.load(EXAMPLES[0], sr=12000)
        self.assertEqual(y.dtype, np.float32)
        self.assertEqual(y.ndim, 1)
        self.assertTrue(np.array_equal(genre.logmel(y), genre.logmel(EXAMPLES[0])))
        # Any numeric array is converted to float32 on the way in.
        self.assertTrue(np.array_equal(genre.logmel(y.astype(np.float64)), genre.logmel(y)))

    def test_other_parameters_and_config(self):
        s = genre.logmel(EXAMPLES[0], sr=16000, n_fft=1024, hop_length=512, n_mels=64)
        self.assertEqual(s.shape[0], 64)
        model = genre.Model(MODEL)
        from_config = genre.logmel(EXAMPLES[0], config=model.feature_config, excerpt=True)
        self.assertTrue(np.array_equal(from_config, model.logmel(EXAMPLES[0])))

    def test_matches_librosa_reference(self):
        index_path = os.path.join(SHARED, "reference", "index.json")
        if not os.path.exists(index_path):
            self.skipTest("shared data not found: set GENRE_SHARED to the shared/ folder")
        with open(index_path) as f:
            files = json.load(f)["files"]
        self.assertGreaterEqual(len(files), 10)
        worst_signal = worst_db = 0.0
        for entry in files:
            audio = self.reference_source(entry["source"])
            ref = lambda kind: np.fromfile(os.path.join(SHARED, "reference", entry[kind]["file"]),
                                           dtype="<f4")
            y = genre.load(audio, sr=12000)
            y_ref = ref("y12k")
            self.assertEqual(y.shape, y_ref.shape, audio)
            worst_signal = max(worst_signal, float(np.abs(y - y_ref).max()))
            s = genre.logmel(audio, excerpt=True)
            worst_db = max(worst_db, float(np.abs(s.ravel() - ref("logmel")).max()))
        print(f"python parity worst: signal {worst_signal:.3g}, logmel {worst_db:.3g} dB "
              f"over {len(files)} files")
        self.assertLessEqual(worst_signal, SIGNAL_TOLERANCE)
        self.assertLessEqual(worst_db, LOGMEL_TOLERANCE_DB)

    @staticmethod
    def reference_source(source):
        for candidate in (os.path.join(SHARED, "audio", source),
                          os.path.join(SHARED, "audio", "formats", source),
                          os.path.join(SHARED, "gtzan", source.split(".")[0], source)):
            if os.path.exists(candidate):
                return candidate
        raise FileNotFoundError(source)


class Predict(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = genre.Model(MODEL)

    def setUp(self):
        require_examples(self)

    def test_equals_genre_predict(self):
        status, out, err = genre_cli("predict", "-q", "--json", "--model", MODEL, *EXAMPLES)
        self.assertEqual(status, 0, err)
        expected = json.loads(out)["predictions"]
        results = self.model.predict(EXAMPLES, top_k=2)
        self.assertEqual(len(results), len(EXAMPLES))
        for got, want in zip(results, expected):
            self.assertEqual(got["input"], want["input"])
            self.assertEqual(got["label"], want["label"])
            probabilities = np.array([want["probabilities"][c] for c in self.model.classes])
            np.testing.assert_allclose(got["probabilities"], probabilities, atol=1e-6)
            self.assertEqual([c for c, _ in got["top"]], [t["label"] for t in want["top"][:2]])
            self.assertAlmostEqual(got["seconds"], want["seconds"], places=3)

    def test_single_input_and_arrays(self):
        path = EXAMPLES[0]
        from_path = self.model.predict(path)
        self.assertIsInstance(from_path, dict)
        self.assertEqual(len(from_path["top"]), 3)
        self.assertEqual(self.model.classes, json.loads(genre_cli("info", MODEL)[1])["classes"])
        # A signal at the model's rate: the same excerpt as the file's, to float rounding.
        signal = genre.load(path, sr=self.model.feature_config["sample_rate"])
        from_signal = self.model.predict(signal)
        np.testing.assert_allclose(from_signal["probabilities"], from_path["probabilities"],
                                   atol=1e-4)
        from_logmel = self.model.predict(self.model.logmel(path))
        np.testing.assert_allclose(from_logmel["probabilities"], from_path["probabilities"],
                                   atol=1e-4)
        mixed = self.model.predict([path, signal])
        self.assertEqual([r["label"] for r in mixed], [from_path["label"], from_signal["label"]])

    def test_window_probabilities_average_to_genre_over_time(self):
        crnn = genre.Model(CRNN)
        status, out, err = genre_cli("predict", "-q", "--json", "--segments", "--model", CRNN,
                                     EXAMPLES[0])
        self.assertEqual(status, 0, err)
        want = json.loads(out)["predictions"][0]["probabilities"]
        windows = crnn.window_probabilities(EXAMPLES[0])
        p = windows["probabilities"]
        self.assertEqual(p.shape, (len(windows["starts"]), len(crnn.classes)))
        self.assertGreater(p.shape[0], 10)
        self.assertTrue(np.all(np.diff(windows["starts"]) > 0))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(p.mean(axis=0), [want[c] for c in crnn.classes], atol=1e-5)

    def test_threads_share_one_model(self):
        results = {}

        def classify(i):
            results[i] = self.model.predict(EXAMPLES[i % len(EXAMPLES)])["probabilities"]

        threads = [threading.Thread(target=classify, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        reference = self.model.predict(EXAMPLES[0])["probabilities"]
        np.testing.assert_allclose(results[0], reference, atol=1e-6)


class Errors(unittest.TestCase):
    def cli_message(self, path):
        """The message `genre predict` prints for a failing input, and its kind."""
        status, _, err = genre_cli("predict", "-q", "--model", MODEL, path)
        self.assertEqual(status, 1, err)
        m = re.search(r"genre predict: error: (.*) \[(\w+)\]", err)
        self.assertIsNotNone(m, err)
        return m.group(1), m.group(2)

    def test_bad_files_raise_the_cli_message(self):
        model = genre.Model(MODEL)
        with tempfile.TemporaryDirectory() as d:
            not_audio = os.path.join(d, "notes.wav")
            with open(not_audio, "w") as f:
                f.write("these are not samples\n")
            for path in (os.path.join(d, "missing.wav"), not_audio):
                message, kind = self.cli_message(path)
                with self.assertRaises(genre.Error) as caught:
                    model.predict(path)
                self.assertEqual(str(caught.exception), message)
                self.assertEqual(caught.exception.kind, kind)
                self.assertEqual(caught.exception.path, path)
                with self.assertRaises(genre.Error) as caught:
                    genre.load(path)
                self.assertEqual(str(caught.exception), message)
                with self.assertRaises(genre.Error):
                    genre.logmel(path)
                kept = model.predict([path], errors="keep")[0]
                self.assertEqual((kept["error"], kept["error_kind"]), (message, kind))

    def test_error_types(self):
        self.assertTrue(issubclass(genre.Error, RuntimeError))
        with self.assertRaises(genre.Error) as caught:
            genre.Model("/nonexistent/model.pt")
        self.assertIn("/nonexistent/model.pt", str(caught.exception))
        self.assertEqual(caught.exception.kind, "not_found")
        with self.assertRaises(TypeError):
            genre.logmel(42)
        with self.assertRaises(ValueError):
            genre.logmel(np.zeros((2, 2, 2), dtype=np.float32))


if __name__ == "__main__":
    unittest.main()
