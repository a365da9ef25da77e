"""Keras-compatible layers."""

from npgrad.layers.layer import Layer, get_layer_class
