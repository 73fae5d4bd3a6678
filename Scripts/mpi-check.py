"""Data-parallel training under MPI on loopback, against the single-process run.

Usage: mpi-check.py BACKPROP WORKDIR

With Open MPI's mpirun over TCP on `lo`:
  1. `mpirun -np 2 backprop train …` writes the single-process model: every weight within 1e-6
     relative (of the largest weight) in Float, and says whether bit for bit; its first line
     says it is data-parallel, and the model's metadata records "ranks": "2".
  2. The same with 3 ranks and a global batch of 10, which does not divide evenly (4, 3, 3), and
     SGD with momentum, validated on 100 held-out rows (34, 33, 33 a rank): every value of the
     history, validation's included, within 1e-6 relative of the single process's.
  3. A killed rank: the run stops with an error within seconds, and no model file is written.
  4. A process that mpirun's environment names a rank, without libmpi: a clear error, no file.
Exits non-zero with a message on the first failure.
"""

import json
import os
import signal
import subprocess
import sys
import time

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,tcp",
          "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]


def fail(message):
    print(f"mpi check: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def numbers(value):
    """Every number in nested lists, in order."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    if isinstance(value, list):
        return [number for item in value for number in numbers(item)]
    return []


def weights(path):
    model = json.load(open(path))
    values = []
    for layer in model["layers"]:
        for key in sorted(layer):
            if isinstance(layer[key], list):
                values += numbers(layer[key])
    return model, values


def history(path):
    """The history CSV's columns by name."""
    lines = open(path).read().split()
    names = lines[0].split(",")
    rows = [[float(value) for value in line.split(",")] for line in lines[1:]]
    return {name: [row[index] for row in rows] for index, name in enumerate(names)}


def compare_histories(single, parallel, label):
    ours, reference = history(parallel), history(single)
    if ours.keys() != reference.keys():
        fail(f"{label}: history columns {list(ours)} against {list(reference)}")
    for name, values in reference.items():
        for epoch, (a, b) in enumerate(zip(ours[name], values), start=1):
            if abs(a - b) > 1e-6 * max(abs(b), 1e-12):
                fail(f"{label}: epoch {epoch}'s {name} is {a}, the single process's {b}")
    print(f"{label}: history ({', '.join(reference)}) within 1e-6 of the single process's")


def compare(backprop, workdir, ranks, flags, label):
    single = os.path.join(workdir, f"{label}-single.json")
    parallel = os.path.join(workdir, f"{label}-{ranks}.json")
    histories = [os.path.join(workdir, f"{label}-{name}.csv") for name in ("single", ranks)]
    run = [backprop, "train"] + flags
    done = subprocess.run(run + ["--quiet", "--output", single, "--history", histories[0]],
                          capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"the single-process run failed: {done.stderr}")
    started = time.time()
    done = subprocess.run(MPIRUN + ["-np", str(ranks)] + run
                          + ["--output", parallel, "--history", histories[1]],
                          capture_output=True, text=True, timeout=600)
    seconds = time.time() - started
    if done.returncode != 0:
        fail(f"mpirun -np {ranks} failed ({done.returncode}): {done.stderr[-2000:]}")
    first = done.stdout.splitlines()[0] if done.stdout else ""
    if f"data-parallel on {ranks} ranks" not in first:
        fail(f"the first line does not say data-parallel on {ranks} ranks: {first!r}")
    model, ours = weights(parallel)
    _, reference = weights(single)
    if model["metadata"].get("ranks") != str(ranks):
        fail(f"the model's metadata records ranks {model['metadata'].get('ranks')!r}")
    if len(ours) != len(reference):
        fail(f"{len(ours)} weights against the single process's {len(reference)}")
    largest = max(abs(value) for value in reference)
    difference = max(abs(a - b) for a, b in zip(ours, reference))
    identical = ours == reference
    print(f"{label}: {ranks} ranks, {len(ours)} weights, largest difference {difference:.3g} "
          f"of largest weight {largest:.3g} ({difference / largest:.2g} relative; "
          f"{'bit for bit' if identical else 'not bit for bit'}), {seconds:.1f} s")
    if difference > 1e-6 * largest:
        fail(f"{label}: the {ranks}-rank model differs from the single-process one by {difference}")
    compare_histories(*histories, label)


def killed_rank(backprop, workdir):
    output = os.path.join(workdir, "killed.json")
    run = MPIRUN + ["-np", "2", backprop, "train", "--toy", "spirals", "--samples", "2000",
                    "--layers", "64,64", "--epochs", "100000", "--output", output]
    mpirun = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    time.sleep(4)
    ranks = subprocess.run(["pgrep", "-f", "-P", str(mpirun.pid), "backprop"],
                           capture_output=True, text=True).stdout.split()
    if len(ranks) < 2:
        os.killpg(mpirun.pid, signal.SIGKILL)
        fail(f"expected two rank processes under mpirun, found {ranks}")
    os.kill(int(ranks[-1]), signal.SIGKILL)
    killed = time.time()
    try:
        _, stderr = mpirun.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(mpirun.pid, signal.SIGKILL)
        fail("the run went on for 30 s after a rank was killed")
    stopped = time.time() - killed
    if mpirun.returncode == 0:
        fail("mpirun exited 0 after a rank was killed")
    if os.path.exists(output):
        fail("a model file was written by a run whose rank was killed")
    print(f"killed rank: the run stopped {stopped:.1f} s later with status {mpirun.returncode}, "
          "no model written")


def without_mpi(backprop, workdir):
    output = os.path.join(workdir, "no-mpi.json")
    environment = dict(os.environ, OMPI_COMM_WORLD_SIZE="2",
                       BACKPROP_MPI_LIBRARY="/nonexistent/libmpi.so")
    done = subprocess.run([backprop, "train", "--toy", "xor", "--epochs", "1", "--output", output],
                          capture_output=True, text=True, env=environment)
    if done.returncode == 0 or "started by mpirun" not in done.stderr:
        fail(f"a rank without libmpi did not say why: {done.returncode} {done.stderr!r}")
    if os.path.exists(output):
        fail("a rank without libmpi wrote a model")
    print(f"a rank without libmpi: {done.stderr.strip()[:140]}")


def main():
    backprop, workdir = sys.argv[1:3]
    os.makedirs(workdir, exist_ok=True)
    compare(backprop, workdir, 2,
            ["--toy", "moons", "--samples", "600", "--layers", "16,16", "--epochs", "4",
             "--batch-size", "32", "--seed", "3"], "moons-adam")
    compare(backprop, workdir, 3,
            ["--toy", "circles", "--samples", "500", "--layers", "8", "--epochs", "3",
             "--batch-size", "10", "--optimizer", "sgd", "--momentum", "0.9",
             "--learning-rate", "0.05", "--validation-split", "0.2", "--seed", "4"],
            "circles-sgd")
    killed_rank(backprop, workdir)
    without_mpi(backprop, workdir)
    print("mpi check: passed")


if __name__ == "__main__":
    main()
