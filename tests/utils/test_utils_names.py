"""keras.utils names npgrad gained with the image utilities: Sequence, is_keras_tensor,
standardize_dtype, get_source_inputs, Config, the interactive-logging switches (progress
bars and summaries to stdout or to Python's logging), and keras.preprocessing.image."""

import json
import logging

import numpy as np
import pytest

import npgrad
from npgrad import layers, utils
from npgrad.utils.progbar import Progbar


def test_the_new_names_are_there():
    for name in ("Config", "Sequence", "array_to_img", "img_to_array", "load_img", "save_img",
                 "get_source_inputs", "is_keras_tensor", "standardize_dtype",
                 "enable_interactive_logging", "disable_interactive_logging",
                 "is_interactive_logging_enabled"):
        assert name in dir(utils) and name in utils.__all__, name
        assert callable(getattr(utils, name)), name
    assert utils.Sequence is utils.PyDataset
    assert utils.is_keras_tensor is npgrad.backend.is_keras_tensor
    assert utils.standardize_dtype is npgrad.backend.standardize_dtype
    assert utils.standardize_dtype("float") == "float32"
    assert utils.is_keras_tensor(npgrad.Input((3,))) and not utils.is_keras_tensor(np.zeros(3))
    utils.disable_interactive_logging()  # one switch, in npgrad.config and npgrad.utils
    assert not npgrad.config.is_interactive_logging_enabled()
    npgrad.config.enable_interactive_logging()
    assert utils.is_interactive_logging_enabled()
    image = npgrad.preprocessing.image
    assert sorted(image.__all__) == ["array_to_img", "img_to_array", "load_img", "save_img",
                                     "smart_resize"]
    assert image.load_img is utils.load_img and image.array_to_img is utils.array_to_img
    from npgrad.preprocessing.image import smart_resize  # noqa: F401 - importable as in Keras


def test_a_sequence_subclass_trains_like_a_py_dataset():
    class Batches(utils.Sequence):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return np.full((4, 3), index, np.float32), np.ones((4, 1), np.float32)

    model = npgrad.Sequential([npgrad.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(Batches(), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


# ------------------------------------------------------------------ get_source_inputs
def test_get_source_inputs_of_a_two_input_graph():
    a, b = npgrad.Input((3,), name="a"), npgrad.Input((2,), name="b")
    left = layers.Dense(4)(a)
    joined = layers.Concatenate()([layers.Dense(4)(b), left, layers.Dense(4)(a)])
    out = layers.Dense(1)(joined)
    sources = utils.get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is b and sources[1] is a  # the walk's order
    assert utils.get_source_inputs(left)[0] is a and len(utils.get_source_inputs(left)) == 1
    assert utils.get_source_inputs(a) == [a]
    data = np.zeros(3)
    assert utils.get_source_inputs(data) is data  # no history: returned as it is (Keras)
    model = npgrad.Model([a, b], out)
    assert all(x is y for x, y in zip(utils.get_source_inputs(model.outputs[0]), [b, a]))


def test_get_source_inputs_walks_shared_branches_once():
    x = npgrad.Input((2,))
    h = x
    for _ in range(40):  # 2**40 paths: walked once per tensor
        h = layers.Add()([layers.Dense(2)(h), layers.Dense(2)(h)])
    assert utils.get_source_inputs(h) == [x]


# ------------------------------------------------------------------ Config
def test_config_is_a_dict_with_attributes():
    config = utils.Config(learning_rate=0.1, momentum=0.9)
    config.use_ema = True
    config["seed"] = 123
    assert config.seed == 123 and config["learning_rate"] == 0.1 and config.get("nope", 5) == 5
    assert list(config) == ["learning_rate", "momentum", "seed", "use_ema"]  # sorted (Keras)
    assert list(config.keys()) == ["learning_rate", "momentum", "use_ema", "seed"]
    assert len(config) == 4 and "seed" in config and "nope" not in config
    assert json.loads(config.to_json()) == config.as_dict()
    plain = config.as_dict()
    plain["seed"] = 0
    assert config.seed == 123  # as_dict is a copy
    assert config.pop("momentum") == 0.9
    config.update(momentum=0.5)
    del config["use_ema"]
    assert dict(config.items()) == {"learning_rate": 0.1, "seed": 123, "momentum": 0.5}
    assert repr(config) == "<Config {'learning_rate': 0.1, 'seed': 123, 'momentum': 0.5}>"


def test_config_freezes_and_explains_unknown_names():
    config = utils.Config(learning_rate=0.1)
    config.freeze()
    assert config.frozen
    frozen = "Cannot mutate attribute\\(s\\) because the config is frozen."
    for change in (lambda: setattr(config, "seed", 1), lambda: config.__setitem__("seed", 1),
                   lambda: config.pop("learning_rate"), lambda: config.update(seed=1),
                   lambda: config.__delitem__("learning_rate")):
        with pytest.raises(ValueError, match=frozen):
            change()
    config.unfreeze()
    config.seed = 1
    assert not config.frozen and config.seed == 1
    with pytest.raises(AttributeError, match="Unknown attribute: 'learning_rat'. Did you mean "
                                             "'learning_rate'?"):
        config.learning_rat  # noqa: B018
    with pytest.raises(AttributeError, match="^Unknown attribute: 'zzz'.$"):
        config.zzz  # noqa: B018
    with pytest.raises(TypeError):
        utils.Config(f=lambda: 0).to_json()


# ------------------------------------------------------------------ interactive logging
@pytest.fixture
def logging_switch():
    yield
    utils.enable_interactive_logging()


def test_progress_bars_go_to_logging_when_interactive_logging_is_off(capsys, caplog,
                                                                    logging_switch):
    assert utils.is_interactive_logging_enabled()
    bar = Progbar(3)
    bar.update(3, values=[("loss", 0.5)])
    assert "3/3" in capsys.readouterr().out and not caplog.records
    utils.disable_interactive_logging()
    assert not utils.is_interactive_logging_enabled()
    assert not npgrad.config.is_interactive_logging_enabled()
    with caplog.at_level(logging.INFO, logger="npgrad"):
        bar = Progbar(3)
        for step in (1, 2, 3):
            bar.update(step, values=[("loss", 0.25)])
    assert capsys.readouterr().out == ""
    records = [r for r in caplog.records if r.name == "npgrad"]
    assert len(records) == 1 and "3/3" in records[0].getMessage()
    assert "loss: 0.2500" in records[0].getMessage()
    assert "\r" not in records[0].getMessage() and "\x1b" not in records[0].getMessage()


def test_summary_goes_to_logging_when_interactive_logging_is_off(capsys, caplog, logging_switch):
    model = npgrad.Sequential([npgrad.Input((3,)), layers.Dense(2)], name="tiny")
    model.summary()
    assert 'Model: "tiny"' in capsys.readouterr().out
    utils.disable_interactive_logging()
    with caplog.at_level(logging.INFO, logger="npgrad"):
        model.summary()
    assert capsys.readouterr().out == ""
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "npgrad")
    assert 'Model: "tiny"' in text and "Total params: 8" in text
    lines = []
    model.summary(print_fn=lines.append)  # an explicit print_fn is always used
    assert lines[0] == 'Model: "tiny"'


def test_a_progbar_given_a_stream_keeps_writing_to_it(logging_switch):
    import io

    utils.disable_interactive_logging()
    stream = io.StringIO()
    Progbar(2, file=stream).update(2)
    assert stream.getvalue().startswith("2/2")


def test_fit_logs_its_progress_bar(capsys, caplog, logging_switch):
    model = npgrad.Sequential([npgrad.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    utils.disable_interactive_logging()
    with caplog.at_level(logging.INFO, logger="npgrad"):
        model.fit(np.zeros((8, 3)), np.zeros((8, 1)), batch_size=4, epochs=1, verbose=1)
    bars = [r.getMessage() for r in caplog.records if r.name == "npgrad"]
    assert len(bars) == 1 and bars[0].startswith("2/2") and "loss:" in bars[0]
    assert "2/2" not in capsys.readouterr().out
