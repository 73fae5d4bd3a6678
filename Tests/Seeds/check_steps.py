# The acceptance test of `backprop check` (run by Scripts/test): numpy writes correct steps in
# both layouts for every activation and loss, and steps with one planted bug for each bug
# identifier; then the four seeds' own programs. `backprop check` must pass every correct step
# and name each bug. Usage: check_steps.py BACKPROP_BINARY
import json, os, subprocess, sys, tempfile
import numpy as np

binary = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp()
failures = []

def run(path, activations, loss, lr):
    result = subprocess.run([binary, "check", path, "--activations", activations, "--loss", loss,
                             "--learning-rate", str(lr), "--format", "json"],
                            capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(f"backprop check failed on {path}: {result.stderr}")
    report = json.loads(result.stdout)
    if (result.returncode == 0) != report["all_agree"]:
        failures.append(f"{path}: exit status {result.returncode} but all_agree {report['all_agree']}")
    return report

f = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0),
     "identity": lambda z: z}
df = {"tanh": lambda a: 1 - a**2, "sigmoid": lambda a: a * (1 - a), "relu": lambda a: (a > 0) * 1.0,
      "identity": lambda a: np.ones_like(a)}

def step(hidden, last, loss, torch_layout, bug=None, seed=0, lr=0.1):
    rng = np.random.default_rng(seed)
    N, sizes = 5, [3, 4, 2]
    X = rng.normal(size=(N, sizes[0]))
    if loss == "cross-entropy":
        Y = np.eye(sizes[2])[rng.integers(0, sizes[2], N)]
    elif loss == "binary-cross-entropy":
        Y = rng.integers(0, 2, (N, sizes[2])).astype(float)
    else:
        Y = rng.normal(size=(N, sizes[2]))
    W = [rng.normal(size=(sizes[i], sizes[i + 1])) for i in range(2)]  # in×out
    b = [rng.normal(size=sizes[i + 1]) for i in range(2)]
    acts = [hidden, last]
    a, zs, As = X, [], [X]
    for i in range(2):
        z = a @ W[i] + (0 if bug == "missing-bias" and i == 0 else b[i])
        if acts[i] == "softmax":
            e = np.exp(z - z.max(1, keepdims=True)); a = e / e.sum(1, keepdims=True)
        else:
            a = f[acts[i]](z)
        zs.append(z); As.append(a)
    out = As[2]
    if loss == "cross-entropy": delta2 = (out - Y) / N
    elif loss == "binary-cross-entropy": delta2 = (out - Y) / Y.size
    elif loss == "mse": delta2 = 2 * (out - Y) / Y.size * df[last](out)
    else: delta2 = (out - Y) * df[last](out)
    if bug == "wrong-sign": delta2 = -delta2
    if bug == "sum-instead-of-mean": delta2 = delta2 * N
    if bug == "mean-instead-of-sum": delta2 = delta2 / N
    if bug == "softmax-derivative-twice": delta2 = delta2 * out * (1 - out)
    dW2 = As[1].T @ delta2; db2 = delta2.sum(0)
    if bug == "bias-gradient-not-summed": db2 = delta2.mean(0)
    W2_new = W[1] - lr * dW2
    dh1 = delta2 @ (W2_new if bug == "updated-before-use" else W[1]).T
    dz1 = dh1 * df[hidden](As[1])
    if bug == "derivative-of-wrong-variable": dz1 = dh1 * df[hidden](zs[0])
    if bug == "missing-activation-derivative": dz1 = dh1
    if bug == "factor-two": dz1 = 2 * dz1
    if bug == "wrong-index": dz1 = dz1.copy(); dz1[1, 2] = dz1[1, 3]
    dW1 = X.T @ dz1; db1 = dz1.sum(0)
    if bug == "transposed": dW1 = dW1.T
    lay = (lambda m: m.T) if torch_layout else (lambda m: m)
    return dict(X=X, Y=Y, W1=lay(W[0]), b1=b[0], W2=lay(W[1]), b2=b[1], z1=zs[0], a1=As[1],
                z2=zs[1], y_pred=out, delta2=delta2, dW2=lay(dW2), db2=db2, dh1=dh1, dz1=dz1,
                dW1=dW1 if bug == "transposed" and not torch_layout else lay(dW1), db1=db1,
                W1_new=lay(W[0] - lr * (dW1.T if bug == "transposed" else dW1)), W2_new=lay(W2_new))

def save(name, arrays):
    path = os.path.join(work, name + ".npz")
    np.savez(path, **arrays)
    return path

# Correct steps: every hidden activation, every loss with the last activations it takes, both
# layouts. None may get a complaint.
configurations = [(h, last, loss) for h in f for (last, loss) in
                  [("sigmoid", "mse"), ("tanh", "half-sum-of-squares"), ("identity", "mse"),
                   ("relu", "half-sum-of-squares"), ("sigmoid", "binary-cross-entropy"),
                   ("softmax", "cross-entropy")]]
for hidden, last, loss in configurations:
    for torch_layout in (False, True):
        name = f"correct-{hidden}-{last}-{loss}-{'torch' if torch_layout else 'numpy'}"
        report = run(save(name, step(hidden, last, loss, torch_layout)), f"{hidden},{last}", loss, 0.1)
        if not report["all_agree"]:
            failures.append(f"{name}: a correct step got {report['first_mismatch']}")

# One planted bug per identifier, in both layouts, named as the first mismatch.
planted = {
    "transposed": ("tanh", "softmax", "cross-entropy"),
    "sum-instead-of-mean": ("tanh", "softmax", "cross-entropy"),
    "mean-instead-of-sum": ("sigmoid", "sigmoid", "half-sum-of-squares"),
    "factor-two": ("tanh", "identity", "mse"),
    "wrong-sign": ("sigmoid", "sigmoid", "mse"),
    "derivative-of-wrong-variable": ("sigmoid", "softmax", "cross-entropy"),
    "missing-activation-derivative": ("tanh", "sigmoid", "binary-cross-entropy"),
    "softmax-derivative-twice": ("tanh", "softmax", "cross-entropy"),
    "updated-before-use": ("tanh", "identity", "half-sum-of-squares"),
    "bias-gradient-not-summed": ("relu", "softmax", "cross-entropy"),
    "wrong-index": ("tanh", "sigmoid", "mse"),
    "missing-bias": ("tanh", "softmax", "cross-entropy"),
}
for bug, (hidden, last, loss) in planted.items():
    for torch_layout in (False, True):
        name = f"planted-{bug}-{'torch' if torch_layout else 'numpy'}"
        report = run(save(name, step(hidden, last, loss, torch_layout, bug)), f"{hidden},{last}", loss, 0.1)
        found = (report["first_mismatch"] or {}).get("bug")
        if found != bug:
            failures.append(f"{name}: expected {bug}, got {report['first_mismatch']}")

# The seeds' own programs.
def seed(number, activations, loss, lr):
    path = os.path.join(work, f"seed{number}.npz")
    subprocess.run([sys.executable, os.path.join(here, f"seed{number}.py"), path], check=True)
    return run(path, activations, loss, lr)

def expect(condition, message):
    if not condition: failures.append(message)

r = seed("000", "tanh,sigmoid", "mse", 0.1)
expect(r["first_mismatch"]["bug"] == "sum-instead-of-mean", f"seed 000: {r['first_mismatch']}")
expect(r["fitting_loss"] == "half-sum-of-squares", f"seed 000 fits {r['fitting_loss']}")
expect(any(w["bug"] == "missing-bias" and "0.0625" in w["message"] for w in r["warnings"]),
       f"seed 000 warnings: {r['warnings']}")
r = seed("001", "sigmoid,sigmoid", "half-sum-of-squares", 0.7)
expect(r["first_mismatch"]["bug"] == "wrong-sign", f"seed 001: {r['first_mismatch']}")
r = seed("002", "tanh,softmax", "cross-entropy", 0.03)
bugs = {f["name"]: f.get("bug") for f in r["findings"]}
expect(bugs.get("dz") == "derivative-of-wrong-variable", f"seed 002 dz: {bugs}")
expect(bugs.get("W2_grad") == "transposed" and "sum-instead-of-mean" in
       next(f["explanation"] for f in r["findings"] if f["name"] == "W2_grad"), f"seed 002 W2_grad: {r['findings']}")
r = seed("004", "sigmoid,sigmoid", "half-sum-of-squares", 0.5)
wrong = {f["name"]: f for f in r["findings"] if f.get("bug") == "wrong-index"}
expect("z2" in wrong and "adds a1[0, 1] where b2[1] belongs" in wrong["z2"]["explanation"],
       f"seed 004 z2: {r['findings']}")
expect("dW1" in wrong and "[1, 0] [1, 1]" in wrong["dW1"]["explanation"]
       and "uses the derivative of a1[:, 0]" in wrong["dW1"]["explanation"], f"seed 004 dW1: {wrong}")

for failure in failures:
    print("FAIL", failure)
print(f"backprop check: {2 * len(configurations)} correct steps, {2 * len(planted)} planted bugs, "
      f"4 seeds: {len(failures)} failures")
sys.exit(1 if failures else 0)
