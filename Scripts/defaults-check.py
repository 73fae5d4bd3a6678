"""Trains scikit-learn's five bundled data sets with `backprop train` and nothing but the data,
the target and the output (its defaults), beside Backprop with settings matched to
scikit-learn's `MLPClassifier()`/`MLPRegressor()` (one hidden layer of 100 ReLU units, Adam at
0.001, batches of 200, L2 1e-4, 200 epochs), beside scikit-learn's defaults on standardized
features (and targets, for regression: the matched settings on its side), and beside its plain
defaults, on the same 75/25 splits of three seeds, and prints the test accuracies (R² for
diabetes) side by side.

Fails (exit 1) unless, on every data set, the mean over the seeds of Backprop's defaults is
within 0.01 accuracy (0.03 R²) of the better of the two matched columns, or above it.

Usage: python defaults-check.py BACKPROP_EXECUTABLE WORK_DIRECTORY
"""

import csv
import os
import re
import subprocess
import sys
import warnings

from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.compose import TransformedTargetRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

backprop, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
warnings.simplefilter("ignore", ConvergenceWarning)

SEEDS = (0, 1, 2)
DATA_SETS = {
    "iris": (datasets.load_iris, True),
    "wine": (datasets.load_wine, True),
    "breast-cancer": (datasets.load_breast_cancer, True),
    "digits": (datasets.load_digits, True),
    "diabetes": (datasets.load_diabetes, False),
}
MATCHED = ["--layers", "100", "--batch-size", "200", "--weight-decay", "0.0001", "--epochs", "200"]


def write_csv(path, features, targets):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([f"f{i}" for i in range(features.shape[1])] + ["y"])
        for row, target in zip(features, targets):
            writer.writerow([repr(float(value)) for value in row] + [target])


def score(train_csv, test_csv, model, extra):
    subprocess.run(
        [backprop, "train", "--data", train_csv, "--target", "y", "--output", model, "--quiet"]
        + extra, check=True, capture_output=True)
    output = subprocess.run(
        [backprop, "evaluate", "--model", model, "--data", test_csv],
        check=True, capture_output=True, text=True).stdout
    headline = "accuracy" if "accuracy: " in output else "r2"
    match = re.search(rf"^{headline}: (-?[0-9.]+)$", output, re.MULTILINE)
    if not match:
        sys.exit(f"backprop evaluate printed no {headline}:\n{output}")
    return float(match.group(1))


failures = []
print(f"{'data':<14} {'defaults':>9} {'matched':>9} {'scaled':>9} {'sklearn':>9}"
      f"   (means over seeds {SEEDS}; matched: Backprop, scaled and sklearn: scikit-learn)")
for name, (load, classify) in DATA_SETS.items():
    data = load()
    results = {"defaults": [], "matched": [], "scaled": [], "sklearn": []}
    for seed in SEEDS:
        x_train, x_test, y_train, y_test = train_test_split(
            data.data, data.target, test_size=0.25, random_state=seed)
        # Classes as whole numbers (read as classes), values with their fractions.
        cast = int if classify else float
        train_csv = os.path.join(work, f"{name}-{seed}-train.csv")
        test_csv = os.path.join(work, f"{name}-{seed}-test.csv")
        write_csv(train_csv, x_train, [cast(y) for y in y_train])
        write_csv(test_csv, x_test, [cast(y) for y in y_test])
        model = os.path.join(work, f"{name}-{seed}.json")
        results["defaults"].append(score(train_csv, test_csv, model, []))
        results["matched"].append(score(train_csv, test_csv, model, MATCHED + ["--seed", str(seed + 1)]))
        peer = (MLPClassifier if classify else MLPRegressor)(random_state=seed)
        results["sklearn"].append(peer.fit(x_train, y_train).score(x_test, y_test))
        scaled = make_pipeline(
            StandardScaler(), (MLPClassifier if classify else MLPRegressor)(random_state=seed))
        if not classify:
            scaled = TransformedTargetRegressor(scaled, transformer=StandardScaler())
        results["scaled"].append(scaled.fit(x_train, y_train).score(x_test, y_test))
    means = {key: sum(values) / len(values) for key, values in results.items()}
    print(f"{name:<14} {means['defaults']:>9.4f} {means['matched']:>9.4f} {means['scaled']:>9.4f}"
          f" {means['sklearn']:>9.4f}"
          f"   {'accuracy' if classify else 'R²'}; defaults by seed "
          + ", ".join(f"{value:.4f}" for value in results["defaults"]))
    bound = 0.01 if classify else 0.03
    matched = max(means["matched"], means["scaled"])
    if means["defaults"] < matched - bound:
        failures.append(
            f"{name}: the defaults reach {means['defaults']:.4f}, more than {bound} below the "
            f"matched settings' {matched:.4f}")
if failures:
    sys.exit("defaults check failed:\n  " + "\n  ".join(failures))
print("defaults check passed")
