"""Models in and out of Backprop, checked against the reference implementations.

Usage: python Scripts/interchange-check.py BACKPROP WORKDIR

1. Models trained by `backprop train` (classifiers and regressors; tanh, relu, leaky ReLU,
   sigmoid; standardize and min-max scaling; a missing-value fill; dropout) are exported with
   `backprop export`, checked by onnx.checker (full_check) and run in onnxruntime on the raw
   rows: the outputs equal `backprop predict` to 1e-6 (relative to values above 1). Imported back, they predict the same.
2. PyTorch MLPs come in as a state dict in safetensors (`backprop import --weights`) and as
   ONNX from torch.onnx.export (`backprop import --onnx`) and predict as PyTorch does, to 1e-6.
3. The weights `backprop train --weights` writes load into a PyTorch nn.Sequential, and with the
   scaling and fill of their metadata predict as `backprop predict` does.
4. Malformed files get exit status 1 and a message naming the file and the problem.
"""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import onnx
import onnxruntime
import torch
from safetensors import safe_open
from safetensors.torch import save_file

backprop, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
failures = []
TOLERANCE = 1e-6


def path(name):
    return os.path.join(work, name)


def run(*arguments, expect=0):
    result = subprocess.run([backprop, *arguments], capture_output=True, text=True)
    if result.returncode != expect:
        raise SystemExit(f"backprop {' '.join(arguments)} exited {result.returncode}, not "
                         f"{expect}:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def predictions(model, data):
    out = path("predictions.csv")
    run("predict", "--model", model, "--data", data, "--output", out)
    rows = [line.rstrip("\n").split(",") for line in open(out)]
    header, body = rows[0], rows[1:]
    numeric = [i for i, name in enumerate(header) if name != "prediction" or len(header) == 1]
    return np.array([[float(row[i]) for i in numeric] for row in body])


def check(name, got, want):
    """Fails unless every |got − want| ≤ 1e-6 · max(1, |want|) (float32 numbers)."""
    worst = float((np.abs(got - want) / np.maximum(1, np.abs(want))).max())
    verdict = "ok" if worst <= TOLERANCE else "FAILED"
    print(f"{name}: max |difference| / max(1, |value|) {worst:.2e} ({verdict})")
    if worst > TOLERANCE:
        failures.append(name)


rng = np.random.default_rng(7)
x = (rng.normal(size=(300, 4)) * [1, 10, 100, 0.1] + [0, 5, -50, 1]).astype(np.float32)
classes = np.where(x[:, 0] + x[:, 1] / 10 > 0.5, "up",
                   np.where(x[:, 2] > -50, "down", "flat"))
values = np.stack([x[:, 0] * 2 + np.sin(x[:, 1]), x[:, 3] * 5], axis=1)


def write_csv(name, target_columns, targets, missing=False):
    with open(path(name), "w") as f:
        f.write(",".join(["a", "b", "c", "d"] + target_columns) + "\n")
        for index, (row, target) in enumerate(zip(x, targets)):
            cells = [f"{v:.9g}" for v in row]  # float32 values, exactly
            if missing and index % 17 == 3:
                cells[index % 4] = ""
            target_cells = [str(t) for t in np.atleast_1d(target)]
            f.write(",".join(cells + target_cells) + "\n")
    return path(name)


features_csv = write_csv("classes.csv", ["label"], classes)
missing_csv = write_csv("missing.csv", ["label"], classes, missing=True)
values_csv = write_csv("values.csv", ["u", "v"], values)
raw = x.astype(np.float32)
with_nan = raw.copy()
for index in range(len(with_nan)):
    if index % 17 == 3:
        with_nan[index, index % 4] = np.nan

# MARK: 1. Backprop -> ONNX -> onnxruntime
cases = [
    ("classifier-tanh-missing", missing_csv, ["--target", "label", "--activation", "tanh",
                                             "--missing", "mean", "--dropout", "0.2"]),
    ("classifier-relu-minmax", features_csv, ["--target", "label", "--activation", "relu",
                                             "--scale", "minmax"]),
    ("classifier-bce-sigmoid", features_csv, ["--target", "label", "--activation", "sigmoid",
                                             "--loss", "binary-cross-entropy"]),
    ("regressor-leaky-relu", values_csv, ["--target", "u,v", "--activation", "leaky-relu"]),
]
for name, data, flags in cases:
    model, graph = path(f"{name}.json"), path(f"{name}.onnx")
    run("train", "--data", data, *flags, "--layers", "16,8", "--epochs", "30", "--seed", "3",
        "--output", model, "--quiet")
    run("export", "--model", model, "--output", graph)
    proto = onnx.load(graph)
    onnx.checker.check_model(proto, full_check=True)
    session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
    rows = with_nan if "missing" in name else raw
    outputs = session.run(None, {"features": rows})
    ours = predictions(model, data)
    check(f"{name}: onnxruntime against backprop predict", outputs[0], ours)
    reimported = path(f"{name}-reimported.json")
    run("import", "--onnx", graph, "--output", reimported)
    check(f"{name}: exported and imported again", predictions(reimported, data), ours)

# MARK: 2. PyTorch -> Backprop
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8),
                          torch.nn.ReLU(), torch.nn.Linear(8, 3))
np.save(path("rows.npy"), raw)
with torch.no_grad():
    torch_probabilities = torch.softmax(net(torch.from_numpy(raw)), dim=1).numpy()
save_file(dict(net.state_dict()), path("torch.safetensors"))
run("import", "--weights", path("torch.safetensors"), "--activations", "tanh,relu,identity",
    "--loss", "cross-entropy", "--classes", "a,b,c", "--output", path("from-torch.json"))
check("PyTorch state dict imported: predict against PyTorch",
      predictions(path("from-torch.json"), path("rows.npy")), torch_probabilities)
warnings.filterwarnings("ignore", category=DeprecationWarning)  # the TorchScript exporter's
torch.onnx.export(net, (torch.from_numpy(raw[:2]),), path("torch.onnx"), input_names=["x"],
                  output_names=["logits"], dynamic_axes={"x": {0: "N"}}, dynamo=False)
run("import", "--onnx", path("torch.onnx"), "--loss", "cross-entropy",
    "--output", path("from-torch-onnx.json"))
check("torch.onnx.export imported: predict against PyTorch",
      predictions(path("from-torch-onnx.json"), path("rows.npy")), torch_probabilities)
ort_logits = onnxruntime.InferenceSession(path("torch.onnx")).run(None, {"x": raw})[0]
ort_probabilities = np.exp(ort_logits - ort_logits.max(1, keepdims=True))
ort_probabilities /= ort_probabilities.sum(1, keepdims=True)
check("torch.onnx.export imported: predict against onnxruntime",
      predictions(path("from-torch-onnx.json"), path("rows.npy")), ort_probabilities)

# MARK: 3. Backprop -> PyTorch, with the scaling from the metadata
run("train", "--data", missing_csv, "--target", "label", "--layers", "12", "--activation", "tanh",
    "--missing", "median", "--dropout", "0.1", "--epochs", "20", "--seed", "5", "--output", path("to-torch.json"),
    "--weights", path("to-torch.safetensors"), "--quiet")
# The code of the documentation's "File formats" article, as a PyTorch user would write it.
with safe_open(path("to-torch.safetensors"), framework="pt") as f:
    metadata = f.metadata()
    state = {name: f.get_tensor(name) for name in f.keys()}
def activation(name):
    if name.startswith("leaky-relu"):
        return torch.nn.LeakyReLU(float(name.split(":")[1]))
    return {"tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid(),
            "softmax": torch.nn.Softmax(dim=1)}.get(name, torch.nn.Identity())
layers = []
indices = sorted({int(name.split(".")[0]) for name in state})  # dropout takes an index too
for index, name in zip(indices, metadata["backprop.activations"].split(",")):
    weight = state[f"{index}.weight"]
    linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
    linear.weight.data, linear.bias.data = weight, state[f"{index}.bias"]
    layers += [linear, activation(name)]
net = torch.nn.Sequential(*layers).eval()

x = torch.tensor(with_nan, dtype=torch.float64)
if "backprop.missing" in metadata:
    fill = torch.tensor(json.loads(metadata["backprop.missing"])["values"])
    x = torch.where(torch.isnan(x), fill, x)
if "backprop.scaling" in metadata:
    scaling = json.loads(metadata["backprop.scaling"])
    x = (x - torch.tensor(scaling["offsets"])) / torch.tensor(scaling["scales"])
with torch.no_grad():
    outputs = net(x.float())
if metadata["backprop.loss"] == "cross-entropy":
    outputs = torch.softmax(outputs, dim=1)
rebuilt_probabilities = outputs
check("train --weights loaded in PyTorch with its metadata: against backprop predict",
      rebuilt_probabilities.numpy(), predictions(path("to-torch.json"), missing_csv))
print("class order in the metadata:", metadata["backprop.classes"])

# MARK: 4. Malformed files
graph = open(path("classifier-relu-minmax.onnx"), "rb").read()
open(path("truncated.onnx"), "wb").write(graph[: len(graph) // 2])
conv = onnx.helper.make_model(onnx.helper.make_graph(
    [onnx.helper.make_node("Conv", ["x", "k"], ["y"], name="conv1")], "conv",
    [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 1, 8])],
    [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 1, 6])],
    [onnx.numpy_helper.from_array(np.ones((1, 1, 3), np.float32), "k")]))
onnx.save(conv, path("conv.onnx"))
batch_norm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
save_file(dict(batch_norm.state_dict()), path("batch-norm.safetensors"))
open(path("garbage.safetensors"), "wb").write(b"\xff" * 64)
malformed = [
    (["import", "--onnx", path("truncated.onnx")], ["truncated.onnx"]),
    (["import", "--onnx", path("conv.onnx")], ["conv.onnx", "conv1", "Conv", "not part of an MLP"]),
    (["import", "--weights", path("batch-norm.safetensors"), "--activations", "identity"],
     ["batch-norm.safetensors", "tensor '1.", "only an MLP"]),
    (["import", "--weights", path("garbage.safetensors"), "--activations", "identity"],
     ["garbage.safetensors"]),
    (["export", "--model", path("truncated.onnx")], ["truncated.onnx"]),
]
for arguments, fragments in malformed:
    message = run(*arguments, "--output", path("never.json"), expect=1)
    missing = [fragment for fragment in fragments if fragment not in message]
    verdict = "ok" if not missing else f"FAILED (lacks {missing})"
    print(f"backprop {arguments[0]} {os.path.basename(arguments[2])}: exit 1, "
          f"{message.strip().splitlines()[-1][:110]} ({verdict})")
    if missing or os.path.exists(path("never.json")):
        failures.append(" ".join(arguments[:3]))

if failures:
    raise SystemExit(f"interchange check failed: {failures}")
print("interchange check passed")
