"""Renders Backprop's pictures to PNG in headless Chromium and checks what they show.

1. Trains a two-class (moons) and a three-class (blobs) classifier, a 1-D regressor, and a demo,
   each writing its pictures with --plots; every SVG is rendered to PNG with Chromium and must
   not be blank.
2. `backprop plot … --output x.png` (our own PNG path) draws the loss, decision regions, fit and
   network; each must be an 800×600 PNG that is not blank.
3. For each classifier's decision-region PNG, points of a grid inside the plot are classified by
   `backprop predict`; the pixel at each point must have the colour of the predicted class (its
   nearest palette tint) for at least 90% of the points (data markers cover a few).

Usage: python render-check.py BACKPROP_EXECUTABLE CHROMIUM WORK_DIRECTORY
"""

import csv
import glob
import os
import re
import subprocess
import sys

from PIL import Image
from sklearn.datasets import make_blobs, make_moons

backprop, chromium, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
failures = []


def run(*arguments):
    result = subprocess.run([backprop, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"backprop {' '.join(arguments)} failed:\n{result.stderr}")
    return result.stdout


def path(name):
    return os.path.join(work, name)


def write_csv(name, features, labels, header):
    with open(path(name), "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for row, label in zip(features, labels):
            writer.writerow([*row, label])


def not_blank(png, label):
    image = Image.open(png).convert("RGB")
    raw = image.tobytes()
    pixels = [raw[index:index + 3] for index in range(0, len(raw), 3)]
    colours = len(set(pixels))
    inked = sum(1 for pixel in pixels if pixel != b"\xff\xff\xff") / len(pixels)
    if colours < 8 or inked < 0.02:
        failures.append(f"{label}: looks blank ({colours} colours, {inked:.1%} not white)")
    return image


def chromium_png(svg):
    png = svg[:-4] + ".chromium.png"
    width, height = re.search(r'<svg[^>]* width="([\d.]+)" height="([\d.]+)"', open(svg).read()).groups()
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={work}/profile", f"--window-size={int(float(width))},{int(float(height))}",
         f"--screenshot={png}", "file://" + os.path.abspath(svg)],
        capture_output=True, check=True)
    return png


def tint(hex_colour, strength):
    value = int(hex_colour[1:], 16)
    return tuple(round(255 - (255 - channel) * strength)
                 for channel in (value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF))


def check_colours(model, data, classes, label):
    svg, png = path(f"{label}-boundary.svg"), path(f"{label}-boundary.png")
    run("plot", "boundary", "--model", model, "--data", data, "--output", svg)
    run("plot", "boundary", "--model", model, "--data", data, "--output", png)
    image = not_blank(png, f"{label} boundary PNG")
    if image.size != (800, 600):
        failures.append(f"{label} boundary PNG is {image.size}, not 800×600")
    text = open(svg).read()
    left, top, width, height = map(float, re.search(r'data-plot-area="([^"]+)"', text).group(1).split())
    x0, x1, y0, y1 = map(float, re.search(r'data-domain="([^"]+)"', text).group(1).split())
    points = []
    for i in range(15):
        for j in range(15):
            fx, fy = (i + 0.5) / 15, (j + 0.5) / 15
            points.append((x0 + fx * (x1 - x0), y1 - fy * (y1 - y0), left + fx * width, top + fy * height))
    write_csv(f"{label}-grid.csv", [(x, y) for x, y, _, _ in points], [classes[0]] * len(points), ["x0", "x1", "label"])
    predictions = list(csv.DictReader(run("predict", "--model", model, "--data", path(f"{label}-grid.csv")).splitlines()))
    tints = [(index, tint(palette[index], 0.12 + 0.12 * level)) for index in range(len(classes)) for level in range(4)]
    agree = 0
    for (_, _, px, py), prediction in zip(points, predictions):
        pixel = image.getpixel((int(px), int(py)))
        nearest = min(tints, key=lambda entry: sum((a - b) ** 2 for a, b in zip(entry[1], pixel)))[0]
        agree += classes[nearest] == prediction["prediction"]
    share = agree / len(points)
    print(f"{label}: the colour at {agree} of {len(points)} grid points is the predicted class's ({share:.0%})")
    if share < 0.9:
        failures.append(f"{label}: only {share:.0%} of the grid points show the predicted class's colour")


# Two moons and three blobs, trained with their pictures.
x, y = make_moons(300, noise=0.15, random_state=0)
write_csv("moons.csv", x, y, ["x0", "x1", "label"])
x, y = make_blobs(300, centers=3, cluster_std=1.2, random_state=1)
write_csv("blobs.csv", x, y, ["x0", "x1", "label"])
for name in ["moons", "blobs"]:
    run("train", "--data", path(f"{name}.csv"), "--target", "label", "--loss", "cross-entropy",
        "--layers", "16,16", "--activation", "tanh", "--epochs", "40", "--learning-rate", "0.01",
        "--validation-split", "0.2", "--quiet", "--seed", "1", "--output", path(f"{name}.json"),
        "--history", path(f"{name}-history.csv"), "--plots", path(f"{name}-plots"))
run("train", "--toy", "sine", "--samples", "200", "--layers", "16", "--activation", "tanh",
    "--epochs", "30", "--learning-rate", "0.01", "--quiet", "--output", path("sine.json"),
    "--plots", path("sine-plots"))
run("demo", "sine-boundary", "--epochs", "20", "--plots", path("demo-plots"))

svgs = sorted(glob.glob(path("*-plots/*.svg")))
for svg in svgs:
    not_blank(chromium_png(svg), os.path.relpath(svg, work))
print(f"rendered {len(svgs)} pictures of train --plots and demo --plots")

# Our own PNG output of each kind.
write_csv("sine-data.csv", [[i / 10] for i in range(63)], [0] * 63, ["x", "y"])
for label, arguments in [
    ("loss", ["loss", "--history", path("moons-history.csv"), "--log-scale"]),
    ("network", ["network", "--model", path("moons.json")]),
    ("fit", ["fit", "--model", path("sine.json"), "--data", path("sine-data.csv")]),
]:
    png = path(f"plot-{label}.png")
    run("plot", *arguments, "--output", png)
    not_blank(png, f"plot {label} PNG")

check_colours(path("moons.json"), path("moons.csv"), ["0", "1"], "moons")
check_colours(path("blobs.json"), path("blobs.csv"), ["0", "1", "2"], "blobs")

if failures:
    sys.exit("render check failed:\n  " + "\n  ".join(failures))
print("render check passed")
