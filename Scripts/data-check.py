#!/usr/bin/env python3
"""Data files as users have them, written by the programs that write them (scikit-learn, pandas,
numpy, Python's csv and gzip modules, a Latin-1 or Windows-1252 writer), read by `backprop`.

Each row of issue 17's table is a case here: the file, the command, and the outcome it must
have: the right data (what the run's first lines say) or a clear error naming the row, column or
array. It fails on the first case that does not hold, after running them all.

Usage: Scripts/data-check.py PATH-TO-BACKPROP WORK-DIRECTORY
"""
import csv
import gzip
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris

backprop, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def path(name):
    return os.path.join(work, name)


def run(*arguments):
    result = subprocess.run([backprop, *arguments], capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def expect(name, arguments, status, *fragments, absent=()):
    code, output = run(*arguments)
    missing = [f for f in fragments if f not in output]
    present = [f for f in absent if f in output]
    ok = code == status and not missing and not present
    print(("ok   " if ok else "FAIL ") + name, flush=True)
    if not ok:
        print(f"     exit {code} (expected {status}); missing {missing}; unexpected {present}")
        print("     " + output.strip().replace("\n", "\n     ")[:1500])
        failures.append(name)


rng = np.random.default_rng(0)

# A scikit-learn data set exported to CSV: integer classes 0/1/2 are classes, with no flag.
iris = load_iris(as_frame=True).frame
iris.to_csv(path("iris.csv"), index=False)
expect("iris CSV with integer labels trains as classification",
       ["train", "--data", path("iris.csv"), "--target", "target", "--epochs", "2"], 0,
       "3 classes (0, 1, 2)", "whole numbers", "accuracy")
expect("--task regress fits the same labels as numbers",
       ["train", "--data", path("iris.csv"), "--target", "target", "--task", "regress",
        "--epochs", "2"], 0, "regression (--task regress)", "mse")

# pandas' default to_csv writes an unnamed index column: it is left out, with a note.
iris.to_csv(path("iris-index.csv"))
expect("pandas' index column is dropped with a note",
       ["train", "--data", path("iris-index.csv"), "--target", "target", "--epochs", "2"], 0,
       "× 4 features", "pandas' index")

# Semicolon- and tab-separated files (European Excel), detected; decimal commas on request.
iris.to_csv(path("iris-semicolon.csv"), sep=";", index=False, decimal=",")
expect("a semicolon file with decimal commas names the flag it needs",
       ["train", "--data", path("iris-semicolon.csv"), "--target", "target"], 1,
       "'5,1' is not a number", "--decimal-comma")
expect("a semicolon file with --decimal-comma trains",
       ["train", "--data", path("iris-semicolon.csv"), "--target", "target", "--decimal-comma",
        "--epochs", "2"], 0, "× 4 features", "separated by ';'")
iris.to_csv(path("iris.tsv"), sep="\t", index=False)
expect("a tab-separated file is detected",
       ["train", "--data", path("iris.tsv"), "--target", "target", "--epochs", "2"], 0,
       "× 4 features", "separated by tabs")

# Latin-1 and Windows-1252 exports: refused as UTF-8 with the flag to give; read with it.
rows = [("1.5", "2.0", "café"), ("0.5", "1.0", "thé"), ("2.5", "0.5", "café"),
        ("1.0", "1.5", "€uro"), ("0.2", "0.1", "thé"), ("2.2", "1.1", "€uro")] * 5
for encoding, name in [("cp1252", "drinks-cp1252.csv"), ("latin-1", "drinks-latin1.csv")]:
    with open(path(name), "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "drink"])
        writer.writerows(r if encoding == "cp1252" else (r[0], r[1], r[2].replace("€", "E"))
                         for r in rows)
expect("a cp1252 file is refused as UTF-8 with the line and the flag",
       ["train", "--data", path("drinks-cp1252.csv"), "--target", "drink"], 1,
       "not UTF-8", "line 2", "--encoding cp1252")
expect("a cp1252 file reads with --encoding cp1252, class names spelled as written",
       ["train", "--data", path("drinks-cp1252.csv"), "--target", "drink", "--encoding", "cp1252",
        "--epochs", "2"], 0, "3 classes (café, thé, €uro)")
expect("a Latin-1 file reads with --encoding latin1",
       ["train", "--data", path("drinks-latin1.csv"), "--target", "drink", "--encoding", "latin1",
        "--epochs", "2"], 0, "café", "thé")

# Targets: missing, mixed, 1 and 1.0.
frame = pd.DataFrame({"x": rng.normal(size=40), "y": rng.normal(size=40)})
frame["label"] = [str(i % 2) for i in range(40)]
frame.loc[7, "label"] = ""
frame.to_csv(path("missing-target.csv"), index=False)
expect("an empty target is an error naming the row",
       ["train", "--data", path("missing-target.csv"), "--target", "label"], 1,
       "line 9", "column 'label'", "the target is missing")
frame["label"] = ["1" if i % 2 else "1.0" if i % 4 == 0 else "0" for i in range(40)]
frame.to_csv(path("one-and-one-point-zero.csv"), index=False)
# Row 0 holds "1.0", the first spelling of that class, which keeps it.
expect("targets 1 and 1.0 are one class, spelled as first written",
       ["train", "--data", path("one-and-one-point-zero.csv"), "--target", "label", "--loss",
        "cross-entropy", "--epochs", "1"], 0, "2 classes (0, 1.0)")
prices = pd.DataFrame({"x": rng.normal(size=30)})
prices["price"] = [f"{v:.2f}" for v in rng.uniform(1, 9, size=30)]
prices.loc[[4, 11, 20], "price"] = "unknown"
prices.to_csv(path("unknown-prices.csv"), index=False)
expect("a numeric target with a few 'unknown' cells lists them",
       ["train", "--data", path("unknown-prices.csv"), "--target", "price"], 1,
       "mixes numbers and text", "'unknown' (line 6)", "(line 13)", "--task classify")
expect("--task classify takes every value as a class",
       ["train", "--data", path("unknown-prices.csv"), "--target", "price", "--task", "classify",
        "--epochs", "1"], 0, "classes", "(--task classify)")
texts = pd.DataFrame({"x": rng.normal(size=20), "kind": ["cat", "dog"] * 10})
texts.to_csv(path("text-target.csv"), index=False)
expect("--loss mse on a text target speaks of the target, not the features",
       ["train", "--data", path("text-target.csv"), "--target", "kind", "--loss", "mse"], 1,
       "target", "'cat'", absent=("choose them with --features",))

# Missing feature values (pandas writes NaN as an empty cell): an error, or --missing.
gaps = pd.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30),
                     "kind": ["cat", "dog", "eel"] * 10})
gaps.loc[[3, 17], "a"] = np.nan
gaps.loc[8, "b"] = np.nan
gaps.to_csv(path("gaps.csv"), index=False)
expect("a missing feature value is an error naming its row and column",
       ["train", "--data", path("gaps.csv"), "--target", "kind"], 1, "line 5, column 'a'",
       "the value is missing", "--missing")
expect("--missing mean fills the gaps and says how many",
       ["train", "--data", path("gaps.csv"), "--target", "kind", "--missing", "mean", "--epochs",
        "1", "--output", path("gaps-model.json")], 0, "3 missing feature value(s) filled",
       "30 samples")
expect("--missing drop leaves those rows out",
       ["train", "--data", path("gaps.csv"), "--target", "kind", "--missing", "drop", "--epochs",
        "1"], 0, "27 samples", "3 row(s) with a missing feature value left out")
expect("--missing median trains",
       ["train", "--data", path("gaps.csv"), "--target", "kind", "--missing", "median",
        "--epochs", "1"], 0, "filled with their column's median")
mean_a = gaps["a"].mean()
pd.DataFrame({"a": [np.nan, 0.5], "b": [0.25, np.nan]}).to_csv(path("gaps-new.csv"), index=False)
pd.DataFrame({"a": [mean_a, 0.5], "b": [0.25, gaps["b"].mean()]}).to_csv(
    path("gaps-filled.csv"), index=False)
_, filled = run("predict", "--model", path("gaps-model.json"), "--data", path("gaps-filled.csv"))
_, gapped = run("predict", "--model", path("gaps-model.json"), "--data", path("gaps-new.csv"))
same = filled == gapped and filled.count("\n") == 3
print(("ok   " if same else "FAIL ") + "predict fills a new file's gaps with the stored means")
if not same:
    print("     " + filled + "\n     " + gapped)
    failures.append("predict fills gaps")

# Numbers are decimal only.
hexadecimal = pd.DataFrame({"x": ["1.5", "0x10", "2"] * 4, "label": ["a", "b", "a"] * 4})
hexadecimal.to_csv(path("hex.csv"), index=False)
expect("0x10 in a numeric column is refused with its position",
       ["train", "--data", path("hex.csv"), "--target", "label"], 1,
       "line 3", "column 'x'", "'0x10' is not a number")
infinite = pd.DataFrame({"x": ["1.5", "inf", "2"] * 4, "label": ["a", "b", "a"] * 4})
infinite.to_csv(path("inf.csv"), index=False)
expect("inf in a numeric column is refused",
       ["train", "--data", path("inf.csv"), "--target", "label"], 1, "line 3", "'inf'")

# .npy labels: (N, 1) integers, integral floats, one-hot rows.
features = rng.normal(size=(60, 4)).astype(np.float32)
np.save(path("X.npy"), features)
np.save(path("y-column.npy"), (np.arange(60) % 3).reshape(60, 1).astype(np.int64))
expect(".npy labels of shape (N, 1) are classes",
       ["train", "--data", path("X.npy"), "--labels", path("y-column.npy"), "--epochs", "1"], 0,
       "3 classes")
np.save(path("y-float.npy"), (np.arange(60) % 3).astype(np.float64))
expect("float .npy labels that are whole numbers are classes",
       ["train", "--data", path("X.npy"), "--labels", path("y-float.npy"), "--epochs", "1"], 0,
       "3 classes")
np.save(path("y-onehot.npy"), np.eye(3, dtype=np.float32)[np.arange(60) % 3])
expect("one-hot .npy labels with cross-entropy are classes",
       ["train", "--data", path("X.npy"), "--labels", path("y-onehot.npy"), "--loss",
        "cross-entropy", "--epochs", "1"], 0, "3 classes")
np.save(path("y-values.npy"), rng.normal(size=60))
expect("fractional .npy labels are regression",
       ["train", "--data", path("X.npy"), "--labels", path("y-values.npy"), "--epochs", "1"], 0,
       "regression")
np.save(path("y-short.npy"), np.arange(50) % 3)
expect("labels that do not match the samples say so in samples and labels",
       ["train", "--data", path("X.npy"), "--labels", path("y-short.npy")], 1,
       "50 labels for 60 samples")
np.save(path("x-vector.npy"), rng.normal(size=60).astype(np.float32))
expect("a 1-D feature array is one feature per sample",
       ["train", "--data", path("x-vector.npy"), "--labels", path("y-values.npy"), "--epochs", "1"],
       0, "60 samples × 1 features")
np.save(path("x-scalar.npy"), np.float32(3))
expect("a 0-d feature array is refused in the user's terms",
       ["train", "--data", path("x-scalar.npy"), "--labels", path("y-values.npy")], 1,
       "a single number")

# NaN in .npy features at predict time.
np.save(path("y.npy"), np.arange(60) % 3)
code, _ = run("train", "--data", path("X.npy"), "--labels", path("y.npy"), "--epochs", "1",
              "--output", path("model.json"))
poisoned = features.copy()
poisoned[5, 2] = np.nan
np.save(path("X-nan.npy"), poisoned)
expect("NaN in .npy features is refused by predict, naming sample and feature",
       ["predict", "--model", path("model.json"), "--data", path("X-nan.npy")], 1,
       "sample 5, feature 2", "nan")
expect("NaN in .npy features is refused by evaluate",
       ["evaluate", "--model", path("model.json"), "--data", path("X-nan.npy"), "--labels",
        path("y.npy")], 1, "sample 5")

# Files recognized by content, whatever their names.
images = (rng.uniform(size=(60, 4, 4)) * 255).astype(np.uint8)
labels = (np.arange(60) % 3).astype(np.uint8)


def idx(array, code):
    return struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(
        ">" + "I" * array.ndim, *array.shape) + array.tobytes()


with gzip.open(path("images.gz"), "wb") as f:
    f.write(idx(images, 0x08))
with open(path("images.bin"), "wb") as f:
    f.write(idx(images, 0x08))
with gzip.open(path("labels.gz"), "wb") as f:
    f.write(idx(labels, 0x08))
expect("a gzipped IDX file named images.gz is read as IDX",
       ["train", "--data", path("images.gz"), "--labels", path("labels.gz"), "--epochs", "1"], 0,
       "60 samples × 16 features", "3 classes")
expect("an IDX file named images.bin is read as IDX",
       ["train", "--data", path("images.bin"), "--labels", path("labels.gz"), "--epochs", "1"], 0,
       "60 samples × 16 features")
shutil.copy(path("X.npy"), path("features.dat"))
expect("a .npy file named features.dat is read as .npy",
       ["train", "--data", path("features.dat"), "--labels", path("y.npy"), "--epochs", "1"], 0,
       "60 samples × 4 features")

# .npz archives, read wherever .npy is: X and y, keras' x_train and y_train, or named arrays.
np.savez(path("arrays.npz"), X=features, y=np.arange(60) % 3)
expect("an .npz archive of X and y trains with no other flag",
       ["train", "--data", path("arrays.npz"), "--epochs", "1"], 0, "60 samples × 4 features",
       "3 classes")
np.savez_compressed(path("mnist-like.npz"), x_train=images, y_train=labels, x_test=images[:20],
                    y_test=labels[:20])
expect("a compressed .npz of x_train and y_train, as keras.datasets saves it",
       ["train", "--data", path("mnist-like.npz"), "--epochs", "1", "--output",
        path("npz-model.json")], 0, "60 samples × 16 features")
expect("--features and --labels name the arrays of an .npz",
       ["evaluate", "--model", path("npz-model.json"), "--data", path("mnist-like.npz"),
        "--features", "x_test", "--labels", "y_test"], 0, "samples: 20")
expect("predict reads the named array of an .npz",
       ["predict", "--model", path("npz-model.json"), "--data", path("mnist-like.npz"),
        "--features", "x_test", "--output", path("npz-predictions.csv")], 0,
       "wrote 20 predictions")
shutil.copy(path("arrays.npz"), path("arrays.bin"))
expect("an .npz named arrays.bin is read as .npz",
       ["train", "--data", path("arrays.bin"), "--epochs", "1"], 0, "60 samples × 4 features")
np.savez(path("three.npz"), a=features, b=features, c=np.arange(60))
expect("an .npz whose arrays are not X and y lists them",
       ["train", "--data", path("three.npz")], 1, "holds 'a', 'b' and 'c'", "--features NAME")
damaged = bytearray(open(path("arrays.npz"), "rb").read())
damaged[200] ^= 0xFF
open(path("damaged.npz"), "wb").write(bytes(damaged))
expect("a damaged .npz is an error naming the array",
       ["train", "--data", path("damaged.npz")], 1, "damaged.npz", "npz:")

if failures:
    print(f"data check: {len(failures)} case(s) failed")
    sys.exit(1)
print("data check passed")
