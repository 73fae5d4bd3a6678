"""Trains scikit-learn's digits data set (1797 8×8 images) with `backprop train` (64-32-10) and
with scikit-learn's MLPClassifier (the same hidden layer, its defaults) on the same fixed split,
and prints the test accuracies side by side.

Fails (exit 1) unless Backprop reaches 97% test accuracy and is no more than one point below the
better of MLPClassifier on raw pixels (its defaults) and on standardized pixels (the scaling
`backprop train` applies by default).

Usage: python digits-check.py BACKPROP_EXECUTABLE WORK_DIRECTORY
"""

import csv
import os
import re
import subprocess
import sys
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

backprop, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)

digits = load_digits()
x_train, x_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.25, random_state=0, stratify=digits.target)


def write_csv(path, features, labels):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([f"pixel{i}" for i in range(64)] + ["digit"])
        for row, label in zip(features, labels):
            writer.writerow([int(value) for value in row] + [int(label)])


train_csv, test_csv = os.path.join(work, "digits-train.csv"), os.path.join(work, "digits-test.csv")
model_path = os.path.join(work, "digits-model.json")
write_csv(train_csv, x_train, y_train)
write_csv(test_csv, x_test, y_test)

warnings.simplefilter("ignore", ConvergenceWarning)
# random_state fixes the otherwise unseeded initialization; everything else is the default.
sklearn_raw = MLPClassifier(hidden_layer_sizes=(32,), random_state=0).fit(x_train, y_train)
raw_accuracy = sklearn_raw.score(x_test, y_test)
scaler = StandardScaler().fit(x_train)
sklearn_scaled = MLPClassifier(hidden_layer_sizes=(32,), random_state=0).fit(
    scaler.transform(x_train), y_train)
scaled_accuracy = sklearn_scaled.score(scaler.transform(x_test), y_test)

subprocess.run(
    [backprop, "train", "--spec", os.path.join(os.path.dirname(__file__), "digits.yaml"),
     "--data", train_csv, "--output", model_path, "--quiet"],
    check=True)
evaluation = subprocess.run(
    [backprop, "evaluate", "--model", model_path, "--data", test_csv, "--target", "digit"],
    check=True, capture_output=True, text=True).stdout
print(evaluation)
last = evaluation.strip().splitlines()[-1]
match = re.fullmatch(r"accuracy: ([0-9.]+)", last)
if not match:
    sys.exit(f"unexpected last line of backprop evaluate: {last!r}")
ours = float(match.group(1))

best = max(raw_accuracy, scaled_accuracy)
print(f"digits, {len(y_train)} training and {len(y_test)} test images, hidden layer 32:")
print(f"  backprop train --spec digits.yaml (standardized)  test accuracy {ours:.4f}")
print(f"  sklearn MLPClassifier, raw pixels (defaults)      test accuracy {raw_accuracy:.4f}")
print(f"  sklearn MLPClassifier, standardized pixels        test accuracy {scaled_accuracy:.4f}")
failures = []
if ours < 0.97:
    failures.append(f"accuracy {ours:.4f} is below 0.97")
if ours < best - 0.01:
    failures.append(f"accuracy {ours:.4f} is more than one point below scikit-learn's {best:.4f}")
if failures:
    sys.exit("digits check failed: " + "; ".join(failures))
print("digits check passed")
