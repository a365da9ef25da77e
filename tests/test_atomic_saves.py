"""Atomic saves: old-or-new after a SIGKILL at any moment, and no litter after the next save.

Every saver (``save_model``, ``save_weights``, the ``ModelCheckpoint`` callback, a GAN's
``save``) is killed 20+ times at random moments by forking a child that saves in a loop; after each kill the target
must load as one complete version (all weights equal to one of the values the child wrote, or
the parent's), and after the parent's next save the folder must hold the target alone.
"""

import os
import random
import signal
import threading
import time

import numpy as np
import pytest

import npgrad
from npgrad import callbacks, layers, optimizers, saving
from npgrad.saving import atomic

KILLS = 20


def _model():
    npgrad.utils.set_random_seed(0)
    # ~0.5 M values with Adam slots: a save takes long enough to be killed mid-write
    model = npgrad.Sequential([layers.Dense(256, input_shape=(256,)), layers.Dense(256)])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    model.fit(np.ones((4, 256), np.float32), np.ones((4, 256), np.float32), epochs=1,
              verbose=0)
    return model


def _gan():
    from npgrad.models.gan import GAN

    npgrad.utils.set_random_seed(0)
    generator = npgrad.Sequential([layers.Dense(256, input_shape=(128,)), layers.Dense(256)])
    discriminator = npgrad.Sequential([layers.Dense(256, input_shape=(256,)), layers.Dense(1)])
    gan = GAN(generator, discriminator, latent_dim=128)
    gan.compile()
    gan.fit(np.ones((8, 256), np.float32), epochs=1, batch_size=8, verbose=0)  # both slots
    return gan


def _set_all(model, value):
    for weight in model.weights:
        weight.data[...] = value


def _version(model):
    """The one value every weight holds (a torn file would mix versions)."""
    values = {float(v) for w in model.get_weights() for v in np.unique(w)}
    assert len(values) == 1, f"a mix of versions: {sorted(values)[:5]}"
    return values.pop()


def _save_model(model, path):
    saving.save_model(model, path)


def _save_weights(model, path):
    saving.save_weights(model, path)


def _save_gan(gan, path):
    gan.save(path)  # Model.save: the common format, both optimizers' state included


def _checkpoint(model, path):
    checkpoint = callbacks.ModelCheckpoint(str(path))
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"loss": 1.0})


def _load_version(kind, path, template):
    if kind == "save_weights":
        saving.load_weights(template, path)
        return _version(template)
    return _version(saving.load_model(path))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
@pytest.mark.parametrize("kind, saver", [("save_model", _save_model),
                                         ("save_weights", _save_weights),
                                         ("checkpoint", _checkpoint),
                                         ("gan", _save_gan)])
def test_a_killed_save_leaves_the_old_or_the_new_file_and_no_litter(tmp_path, kind, saver):
    model = _gan() if kind == "gan" else _model()
    template = _model()
    path = tmp_path / "ckpt.npgrad"
    rng = random.Random(kind)
    _set_all(model, -1.0)
    saver(model, path)
    seen, mid_write = -1.0, 0
    for kill in range(KILLS):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: save versions 1000*kill + 1, + 2, ... until killed
            try:
                os.close(read_end)
                os.write(write_end, b"go")
                version = 1000.0 * (kill + 1)
                while True:
                    version += 1
                    _set_all(model, version)
                    saver(model, path)
            finally:
                os._exit(0)
        os.close(write_end)
        os.read(read_end, 2)
        os.close(read_end)
        time.sleep(rng.uniform(0.0, 0.03))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        litter = [name for name in os.listdir(tmp_path) if name != path.name]
        mid_write += bool(litter)
        assert all(atomic.TEMP_MARKER in name for name in litter), litter
        version = _load_version(kind, path, template)  # old or new, never torn
        assert version == seen or version > 1000.0 * (kill + 1), (version, seen)
        seen = version
        # the next save removes the dead child's temp file
        _set_all(model, -1.0 - kill)
        saver(model, path)
        seen = -1.0 - kill
        assert os.listdir(tmp_path) == [path.name]
    print(f"\n{kind}: {KILLS} kills, {mid_write} of them mid-write (a temp file was left)")


def test_temp_files_have_a_recognizable_name_and_go_on_errors(tmp_path, monkeypatch):
    path = tmp_path / "m.npgrad"
    names = []
    with pytest.raises(RuntimeError, match="boom"):
        with atomic.atomic_write(path) as file:
            names.append(os.path.basename(file.name))
            file.write(b"half")
            raise RuntimeError("boom")
    assert atomic.temp_file_pattern("m.npgrad").match(names[0])
    assert names[0].startswith(".m.npgrad.npgrad-tmp-") and f"-{os.getpid()}-" in names[0]
    assert os.listdir(tmp_path) == []


def _temp(folder, target, pid, mtime=None, tag="abcd1234"):
    name = folder / f".{target}{atomic.TEMP_MARKER}{pid}-{tag}"
    name.write_bytes(b"partial")
    if mtime is not None:
        os.utime(name, (mtime, mtime))
    return name


def test_only_temp_files_of_dead_writers_are_removed(tmp_path):
    dead = _dead_pid()
    stale = _temp(tmp_path, "m.npgrad", dead)
    other_target = _temp(tmp_path, "other.npgrad", dead)
    live = _temp(tmp_path, "m.npgrad", os.getppid())  # the parent is alive and writing
    # a live pid whose process started after the file was written: the pid was reused
    reused = _temp(tmp_path, "m.npgrad", os.getppid(), mtime=1.0, tag="01d0")
    ours_earlier = _temp(tmp_path, "m.npgrad", os.getpid())  # our pid, not ours (a restart)
    unrelated = tmp_path / ".m.npgrad.backup"
    unrelated.write_bytes(b"keep")
    removed = atomic.remove_stale_temp_files(tmp_path / "m.npgrad")
    assert sorted(removed) == sorted([stale.name, reused.name, ours_earlier.name])
    assert live.exists() and other_target.exists() and unrelated.exists()


def test_a_live_temp_file_of_another_thread_is_kept(tmp_path):
    path = tmp_path / "m.npgrad"
    inside, release = threading.Event(), threading.Event()

    def slow_save():
        with atomic.atomic_write(path) as file:
            file.write(b"first")
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=slow_save)
    thread.start()
    inside.wait(10)
    atomic.atomic_savez(path, {"a": np.ones(2)})  # same target, same pid, other thread
    temps = [n for n in os.listdir(tmp_path) if atomic.TEMP_MARKER in n]
    assert len(temps) == 1  # the other thread's file survived the cleanup
    release.set()
    thread.join()
    assert os.listdir(tmp_path) == ["m.npgrad"] and path.read_bytes() == b"first"


def _dead_pid():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid
