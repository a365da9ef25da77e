"""Audio front ends: STFTSpectrogram (a learnable DFT as a strided convolution) and
MelSpectrogram (``np.fft`` short-time Fourier transform, mel filter bank, decibels).

Both follow Keras 3: STFTSpectrogram holds its DFT kernels as (trainable) weights with
Keras's shapes and initial values, so weights move across and the layer is differentiable;
MelSpectrogram is a fixed preprocessing step computed with ``np.fft.rfft`` (its output is
a constant of the graph).

Example:
    >>> audio = np.random.randn(2, 16000).astype("float32")
    >>> MelSpectrogram(num_mel_bins=40, fft_length=512, sequence_stride=160)(audio).shape
    (2, 40, 101)
    >>> STFTSpectrogram(frame_length=256, frame_step=128)(audio[..., None]).shape
    (2, 124, 129)
"""

from __future__ import annotations

import math

import numpy as np
import scipy.signal

import npgrad.functional as F
from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.layer import Layer

_KERAS_EPSILON = 1e-7
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0
_STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


def _window(window, length, periodic, who):
    """A window array of ``length`` samples: a scipy window name or a 1-D array."""
    if window is None:
        return np.ones(length)
    if isinstance(window, str):
        try:
            return scipy.signal.get_window(window, length, fftbins=periodic)
        except ValueError as error:
            raise ValueError(f"{who}: unknown `window` {window!r}: {error}") from None
    win = np.asarray(window, dtype=np.float64)
    if win.shape != (length,):
        raise ValueError(f"{who}: the window must have shape ({length},), got {win.shape}")
    return win


def stft_kernel(side, frame_length, fft_bins, window="hann", scaling="density", periodic=False):
    """Keras's STFT initializer: (frame_length, 1, fft_bins) cosines ('real') or sines ('imag').

    ``kernel[t, 0, f] = cos(-2 pi t f / N) * w[t] / s`` (sin for 'imag') with
    ``N = 2 (fft_bins - 1)``, the window ``w`` and ``s = sqrt(sum w^2)`` ('density'),
    ``sum |w|`` ('spectrum') or 1 (None).
    """
    n = (fft_bins - 1) * 2
    time = np.arange(frame_length, dtype=np.float64)[:, None, None]
    freq = np.arange(fft_bins, dtype=np.float64)[None, None, :] / n
    angle = -2.0 * time * freq * np.pi
    kernel = np.cos(angle) if side == "real" else np.sin(angle)
    if window is not None:
        win = _window(window, frame_length, periodic, "STFTSpectrogram").reshape(-1, 1, 1)
        scale = {"density": np.sqrt(np.sum(win ** 2)), "spectrum": np.sum(np.abs(win)),
                 None: 1.0}[scaling]
        if scale == 0:
            raise ValueError(f"STFTSpectrogram: the {window!r} window of {frame_length} samples is "
                             "all zeros; use a longer frame or periodic=True")
        kernel = kernel * win / scale
    return kernel


class STFTSpectrogram(Layer):
    """Short-time Fourier transform of (N, T, C) signals as a strided 1-D convolution.

    Each channel is convolved with the real (cosine) and imaginary (sine) DFT kernels,
    windowed; the kernels are trainable weights initialized as Keras's ``STFT`` initializer.

    Args:
        mode: 'log' (default: log magnitude), 'magnitude', 'psd' (one-sided power),
            'real', 'imag', 'angle' (phase; not differentiable) or 'stft' (real then imag).
        frame_length: window length in samples (default 256).
        frame_step: hop in samples (default frame_length // 2).
        fft_length: FFT size (default: the next power of two >= frame_length).
        window: scipy window name (default 'hann'), an array, or None.
        periodic: periodic (True) or symmetric (False, default) window.
        scaling: 'density' (default), 'spectrum' or None.
        padding: 'valid' (default) or 'same'.
        expand_dims: output (N, frames, bins, C) instead of (N, frames, C * bins).
        data_format: None or 'channels_last'.

    Weights: real_kernel and imag_kernel, each (frame_length, 1, fft_length // 2 + 1)
    (only one of them in 'real' / 'imag' mode).
    Shapes: (N, T, C) -> (N, frames, C * bins) (bins doubled in 'stft' mode).
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None,
                 window="hann", periodic=False, scaling="density", padding="valid",
                 expand_dims=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, "STFTSpectrogram")
        self.frame_length = arguments.positive_int(frame_length, "STFTSpectrogram", "frame_length")
        if frame_step is not None and not 1 <= frame_step <= frame_length:
            raise ValueError("STFTSpectrogram: argument `frame_step` must be a positive int not "
                             f"greater than frame_length={frame_length}, got {frame_step!r}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(f"STFTSpectrogram: argument `fft_length` must be >= frame_length, "
                             f"got {fft_length!r}")
        if mode not in _STFT_MODES:
            raise ValueError(f"STFTSpectrogram: argument `mode` must be one of {list(_STFT_MODES)}, "
                             f"got {mode!r}")
        if scaling not in (None, "density", "spectrum"):
            raise ValueError("STFTSpectrogram: argument `scaling` must be None, 'density' or "
                             f"'spectrum', got {scaling!r}")
        self.padding = arguments.padding_arg(padding, "STFTSpectrogram")
        if isinstance(window, str):
            _window(window, 1, periodic, "STFTSpectrogram")  # an unknown name fails here
        self.mode, self.frame_step, self.fft_length = mode, frame_step, fft_length
        self._frame_step = frame_step or self.frame_length // 2
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(self.frame_length)))
        self.window = window if window is None or isinstance(window, str) else \
            np.asarray(window, dtype=np.float64).tolist()
        self.periodic, self.scaling = bool(periodic), scaling
        self.expand_dims = bool(expand_dims)

    def build(self, input_shape):
        arguments.check_ndim(self, input_shape, 3, "(batch, time, channels)")
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        self.real_kernel = self.imag_kernel = None

        def initializer(side):
            def make(shape, dtype=None):
                return stft_kernel(side, shape[0], shape[2], self.window, self.scaling,
                                   self.periodic).astype(dtype)
            return make

        if self.mode != "imag":
            self.real_kernel = self.add_weight("real_kernel", shape, initializer("real"))
        if self.mode != "real":
            self.imag_kernel = self.add_weight("imag_kernel", shape, initializer("imag"))

    def _conv(self, x, kernel):
        n, t, c = x.shape
        signals = F.reshape(F.transpose(x, (0, 2, 1)), (n * c, t, 1))              # (N*C, T, 1)
        out = F.conv1d(signals, kernel, strides=self._frame_step, padding=self.padding)
        frames, bins = out.shape[1], out.shape[2]                                  # (N*C, frames, B)
        return F.reshape(F.transpose(out, (0, 2, 1)), (n, c, bins, frames))        # (N, C, B, frames)

    def _adjust(self, out):
        n, c, bins, frames = out.shape
        if self.expand_dims:
            return F.transpose(out, (0, 3, 2, 1))                                  # (N, frames, B, C)
        return F.transpose(F.reshape(out, (n, c * bins, frames)), (0, 2, 1))      # (N, frames, C*B)

    def call(self, x, training=False):
        arguments.check_ndim(self, x.shape, 3, "(batch, time, channels)")
        real = None if self.real_kernel is None else self._conv(x, self.real_kernel)
        imag = None if self.imag_kernel is None else self._conv(x, self.imag_kernel)
        if self.mode == "real":
            return self._adjust(real)
        if self.mode == "imag":
            return self._adjust(imag)
        if self.mode == "angle":  # phase: a constant (no arctan2 op to differentiate)
            return self._adjust(Tensor(np.arctan2(imag.data, real.data)))
        if self.mode == "stft":
            return self._adjust(F.concatenate([real, imag], axis=2))
        power = F.square(real) + F.square(imag)
        if self.mode == "psd":  # one-sided power: every bin but DC and Nyquist counted twice
            return self._adjust(power + F.pad(F.getitem(power, (slice(None), slice(None),
                                                                slice(1, -1))),
                                              ((0, 0), (0, 0), (1, 1), (0, 0))))
        magnitude = self._adjust(F.sqrt(F.maximum(power, _KERAS_EPSILON)))
        if self.mode == "magnitude":
            return magnitude
        return F.log(F.maximum(magnitude, _KERAS_EPSILON))

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, 3, "(batch, time, channels)")
        n, t, c = input_shape
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        frames = arguments.conv_output_length(t, self.frame_length, self._frame_step, self.padding)
        return (n, frames, bins, c) if self.expand_dims else (n, frames, None if c is None else c * bins)

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode, frame_length=self.frame_length, frame_step=self.frame_step,
                      fft_length=self.fft_length, window=self.window, periodic=self.periodic,
                      scaling=self.scaling, padding=self.padding, expand_dims=self.expand_dims)
        return config


def _hertz_to_mel(hertz):
    return _MEL_HIGH_FREQUENCY_Q * np.log(1.0 + hertz / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sampling_rate, lower_edge_hertz,
                                upper_edge_hertz):
    """(num_spectrogram_bins, num_mel_bins) triangular HTK mel filters with peaks of 1.

    Bin 0 (DC) gets no weight; filter m rises from mel edge m to m + 1 and falls to m + 2,
    with ``num_mel_bins + 2`` edges evenly spaced in mel between the two edge frequencies.
    """
    linear = np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins)[1:]
    bins_mel = _hertz_to_mel(linear)[:, None]
    edges = np.linspace(_hertz_to_mel(lower_edge_hertz), _hertz_to_mel(upper_edge_hertz),
                        num_mel_bins + 2)
    lower, centre, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bins_mel - lower) / (centre - lower)
    falling = (upper - bins_mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.pad(weights, ((1, 0), (0, 0)))


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform of (..., T) signals, as ``torch.stft`` / Keras ``ops.stft``.

    With ``center``, the signal is reflect-padded by ``fft_length // 2`` on both sides; the
    periodic window of ``sequence_length`` samples is zero-padded to ``fft_length``, centred.

    Returns:
        Complex array (..., frames, fft_length // 2 + 1).
    """
    x = np.asarray(x)
    if center:
        pad = fft_length // 2
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    win = _window(window, sequence_length, True, "stft")
    left = (fft_length - sequence_length) // 2
    win = np.pad(win, (left, fft_length - sequence_length - left))
    frames = np.lib.stride_tricks.sliding_window_view(x, fft_length, axis=-1)[..., ::sequence_stride, :]
    return np.fft.rfft(frames * win, n=fft_length, axis=-1)


class MelSpectrogram(Layer):
    """Mel-scaled power spectrogram of raw audio, in decibels by default (Keras 3).

    STFT (centred, reflect padding, periodic window), magnitude to the power ``mag_exp``,
    HTK mel filter bank, then ``10 log10(max(S, min_power) / ref_power)`` floored at
    ``max - top_db`` (the maximum over the whole batch, as Keras).

    Args:
        fft_length: FFT size (default 2048).
        sequence_stride: hop in samples (default 512).
        sequence_length: window length (default fft_length).
        window: 'hann' (default), 'hamming', another scipy name, or None.
        sampling_rate: samples per second (default 16000).
        num_mel_bins: mel bands (default 128).
        min_freq, max_freq: the filter bank's edges in Hz (defaults 20, sampling_rate / 2).
        power_to_db: convert to decibels (default True).
        top_db, mag_exp, min_power, ref_power: as above (80, 2, 1e-10, 1).

    Shapes: (N, T) -> (N, num_mel_bins, frames), (T,) -> (num_mel_bins, frames), with
    ``frames = 1 + T // sequence_stride``.
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann",
                 sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None,
                 power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10, ref_power=1.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.fft_length = arguments.positive_int(fft_length, "MelSpectrogram", "fft_length")
        self.sequence_stride = arguments.positive_int(sequence_stride, "MelSpectrogram",
                                                      "sequence_stride")
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError("MelSpectrogram: `fft_length` must be >= `sequence_length`, got "
                             f"{fft_length} and {sequence_length}")
        self.window = window
        _window(window, 1, True, "MelSpectrogram")
        self.sampling_rate = sampling_rate
        self.num_mel_bins = arguments.positive_int(num_mel_bins, "MelSpectrogram", "num_mel_bins")
        self.min_freq = float(min_freq)
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = bool(power_to_db)
        self.top_db, self.mag_exp = float(top_db), float(mag_exp)
        self.min_power, self.ref_power = float(min_power), float(ref_power)

    def call(self, x, training=False):
        if x.ndim not in (1, 2):
            raise arguments.incompatible(self, "rank 1 (T,) or rank 2 (N, T) audio", x.shape)
        if x.shape[-1] <= self.fft_length // 2:
            raise arguments.incompatible(self, f"more than fft_length // 2 = {self.fft_length // 2} "
                                               "samples (reflect padding)", x.shape)
        dtype = x.dtype
        spectrum = stft(x.data.astype(np.float64), self.sequence_length, self.sequence_stride,
                        self.fft_length, self.window)
        power = np.abs(spectrum) ** self.mag_exp                                 # (..., frames, B)
        matrix = linear_to_mel_weight_matrix(self.num_mel_bins, power.shape[-1], self.sampling_rate,
                                             self.min_freq, self.max_freq)
        out = power @ matrix                                                     # (..., frames, M)
        if self.power_to_db:
            out = 10.0 * np.log10(np.maximum(out, self.min_power))
            out -= 10.0 * np.log10(max(abs(self.ref_power), self.min_power))
            out = np.maximum(out, out.max() - self.top_db)
        return Tensor(np.swapaxes(out, -1, -2).astype(dtype))

    def compute_output_shape(self, input_shape):
        length = input_shape[-1]
        frames = None if length is None else 1 + length // self.sequence_stride
        return tuple(input_shape[:-1]) + (self.num_mel_bins, frames)

    def get_config(self):
        config = super().get_config()
        config.update(fft_length=self.fft_length, sequence_stride=self.sequence_stride,
                      sequence_length=self.sequence_length, window=self.window,
                      sampling_rate=self.sampling_rate, num_mel_bins=self.num_mel_bins,
                      min_freq=self.min_freq, max_freq=self.max_freq,
                      power_to_db=self.power_to_db, top_db=self.top_db, mag_exp=self.mag_exp,
                      min_power=self.min_power, ref_power=self.ref_power)
        return config


__all__ = ["STFTSpectrogram", "MelSpectrogram", "stft", "stft_kernel",
           "linear_to_mel_weight_matrix"]
