"""Model-level benchmarks: npgrad against PyTorch on the CPU, same data, same batches.

    python benchmarks/bench_models.py                 # all workloads, 5 interleaved rounds
    python benchmarks/bench_models.py --rounds 3 --steps 100 --only a32,mlp

Workloads (issue 4): seed model A (Conv32-Pool-Conv64-Pool-Dense10) training at batch 32 and
128, seed model B (Conv32-Pool-Dense128-Dropout-Dense10) at batch 32, inference over the 10,000
test images at batch 1000, an MLP 784-128-10 at batch 32, and peak resident memory while fitting
model A on full MNIST. Training workloads time a fixed number of steps (``--steps``) of
``fit`` for npgrad and of the usual loop for PyTorch; both use Adam, float32, 2 threads.
Prints a markdown table of medians and ratios, writes benchmarks/results/models-<time>.json.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import compare, import_torch, limit_threads, print_table, write_json  # noqa: E402

import npgrad  # noqa: E402

TARGETS = {"a32": 0.75, "a128": 0.90, "b32": 0.75, "infer": 0.60, "mlp": 1.0}


def load_data(n_train):
    """Real MNIST when available (NPGRAD_DATA), else random digits of the same shape."""
    try:
        (x, y), (xt, yt) = npgrad.datasets.mnist.load_data()
    except OSError:
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000)
        xt, yt = x[:10000], y[:10000]
    # in place: the data's own footprint, not conversion temporaries, sets the memory baseline
    x = x[:n_train].astype(np.float32)[..., None]
    x /= 255
    xt = xt.astype(np.float32)[..., None]
    xt /= 255
    return x, y[:n_train].astype(np.int64), xt, yt.astype(np.int64)


# ----------------------------------------------------------------------------- npgrad models
def npgrad_model(kind):
    L = npgrad.layers
    if kind == "A":
        layers = [L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                  L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                  L.Flatten(), L.Dense(10, activation="softmax")]
        shape = (28, 28, 1)
    elif kind == "B":
        layers = [L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)), L.Flatten(),
                  L.Dense(128, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")]
        shape = (28, 28, 1)
    else:  # MLP
        layers = [L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")]
        shape = (784,)
    model = npgrad.Sequential([npgrad.Input(shape=shape)] + layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


# ----------------------------------------------------------------------------- torch models
def torch_model(kind, torch):
    nn = torch.nn
    if kind == "A":
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))
    elif kind == "B":
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(5408, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
    else:
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    for m in model.modules():  # Keras defaults: glorot_uniform kernels, zero biases
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def torch_trainer(kind, torch, x, y, batch_size):
    model = torch_model(kind, torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2) if x.ndim == 4 else x))
    ys = torch.from_numpy(y)

    def run():
        model.train()
        for start in range(0, len(xs), batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(xs[start:start + batch_size]), ys[start:start + batch_size])
            loss.backward()
            optimizer.step()

    return model, xs, run


def npgrad_trainer(kind, x, y, batch_size):
    model = npgrad_model(kind)

    def run():
        model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)

    return model, run


def workloads(args):
    torch = import_torch()
    n32, n128 = args.steps * 32, args.steps * 128 // 4  # batch-128 runs a quarter as many steps
    x, y, xt, yt = load_data(max(n32, n128))
    results = []
    only = set(args.only.split(",")) if args.only else set(TARGETS)

    for key, kind, batch, n in (("a32", "A", 32, n32), ("a128", "A", 128, n128), ("b32", "B", 32, n32)):
        if key not in only:
            continue
        _, np_run = npgrad_trainer(kind, x[:n], y[:n], batch)
        t_run = torch_trainer(kind, torch, x[:n], y[:n], batch)[2] if torch else None
        name = f"model {kind} train, batch {batch}, {n // batch} steps"
        results.append(compare(name, np_run, t_run, rounds=args.rounds, target=TARGETS[key],
                               settle=args.settle))
        print_table(results[-1:], "progress")

    if "infer" in only:
        model, _ = npgrad_trainer("A", x[:64], y[:64], 32)
        np_run = lambda: model.predict(xt, batch_size=1000, verbose=0)  # noqa: E731
        t_run = None
        if torch:
            tm, _, _ = torch_trainer("A", torch, x[:64], y[:64], 32)
            txt = torch.from_numpy(np.ascontiguousarray(xt.transpose(0, 3, 1, 2)))

            def t_run():
                tm.eval()
                with torch.no_grad():
                    return [tm(txt[i:i + 1000]) for i in range(0, len(txt), 1000)]

        results.append(compare("model A inference, 10,000 images, batch 1000", np_run, t_run,
                               rounds=args.rounds, target=TARGETS["infer"], settle=args.settle))
        print_table(results[-1:], "progress")

    if "mlp" in only:
        xf = x[:n32].reshape(n32, -1)
        _, np_run = npgrad_trainer("MLP", xf, y[:n32], 32)
        t_run = torch_trainer("MLP", torch, xf, y[:n32], 32)[2] if torch else None
        results.append(compare(f"MLP 784-128-10 train, batch 32, {args.steps} steps", np_run, t_run,
                               rounds=args.rounds, target=TARGETS["mlp"], settle=args.settle))
        print_table(results[-1:], "progress")
    return results


# ----------------------------------------------------------------------------- memory
def memory_child(library, steps):
    """Fit model A on full MNIST for ``steps`` batches of 32; print peak RSS in MiB.

    Both processes load the data the same way (npgrad's IDX reader, float32 NHWC); the
    PyTorch one then makes the NCHW tensor it trains on, as a user would.
    """
    limit_threads()
    x, y, _, _ = load_data(60000)
    _reset_peak_rss()  # measure fitting, not the shared data loading (same code in both)
    if library == "npgrad":
        model = npgrad_model("A")
        model.fit(x, y, batch_size=32, epochs=1, steps_per_epoch=steps, verbose=0)
    else:
        torch = import_torch()
        model = torch_model("A", torch)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        ys = torch.from_numpy(y)
        perm = torch.randperm(len(xs))
        for i in range(steps):
            idx = perm[i * 32:(i + 1) * 32]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[idx]), ys[idx]).backward()
            optimizer.step()
    print(_peak_rss_mib())


def _reset_peak_rss():
    """Reset the kernel's high-water mark of resident memory (Linux >= 4.0); else no-op."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss_mib():
    """Peak resident memory since the last reset (VmHWM), else since the process started."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory(steps):
    out = {}
    for library in ("npgrad", "torch"):
        if library == "torch" and import_torch() is None:
            continue
        proc = subprocess.run([sys.executable, __file__, "--memory-child", library, "--steps", str(steps)],
                              capture_output=True, text=True, check=True)
        out[library] = float(proc.stdout.strip().splitlines()[-1])
    print("\n### peak resident memory while fitting model A on full MNIST\n")
    for library, mib in out.items():
        print(f"- {library}: {mib:.0f} MiB")
    if "torch" in out:
        print(f"- ratio npgrad/PyTorch: **{out['npgrad'] / out['torch']:.2f}** (target <= 1.00)")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=120, help="training steps per timed round (batch 32)")
    parser.add_argument("--settle", type=int, default=1,
                        help="untimed rounds of the same library before each timed one "
                             "(harness.compare: the other library's spinning threads; 0 "
                             "reproduces the older, flattering runs)")
    parser.add_argument("--only", default="", help="comma list of a32,a128,b32,infer,mlp,memory")
    parser.add_argument("--memory-child", choices=("npgrad", "torch"))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.steps)
        return
    limit_threads()
    results = workloads(args)
    print_table(results, "npgrad vs PyTorch (CPU, 2 threads, float32, medians)")
    extra = {}
    if not args.only or "memory" in args.only:
        extra["peak_rss_mib"] = memory(steps=300)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, args.out or Path(__file__).parent / "results" / f"models-{stamp}.json", extra)


if __name__ == "__main__":
    main()
