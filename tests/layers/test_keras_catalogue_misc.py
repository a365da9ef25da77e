"""Keras 3.15's public layer names in the issue-12 families (normalization, regularization,
reshaping glue, preprocessing), kept here so the check runs without Keras: each is in
``npgrad.layers`` or in the documented left-out list of docs/layers.md."""

from pathlib import Path

import npgrad.layers as L

KERAS_NAMES = {
    "normalization": ["GroupNormalization", "RMSNormalization", "UnitNormalization",
                      "SpectralNormalization", "BatchNormalization", "LayerNormalization"],
    "regularization": ["ActivityRegularization", "AlphaDropout", "Dropout", "GaussianDropout",
                       "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D",
                       "SpatialDropout3D"],
    "reshaping": ["Cropping1D", "Cropping2D", "Cropping3D", "Flatten", "Permute", "RepeatVector",
                  "Reshape", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D",
                  "ZeroPadding2D", "ZeroPadding3D", "Identity", "Lambda", "StackedRNNCells"],
    "preprocessing": ["CategoryEncoding", "Discretization", "HashedCrossing", "Hashing",
                      "IntegerLookup", "MelSpectrogram", "Normalization", "Pipeline",
                      "Rescaling", "STFTSpectrogram", "StringLookup", "TextVectorization"],
    "image_preprocessing": ["AugMix", "AutoContrast", "CenterCrop", "CutMix", "Equalization",
                            "MaxNumBoundingBoxes", "MixUp", "RandAugment", "RandomBrightness",
                            "RandomColorDegeneration", "RandomColorJitter", "RandomContrast",
                            "RandomCrop", "RandomElasticTransform", "RandomErasing",
                            "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
                            "RandomInvert", "RandomPerspective", "RandomPosterization",
                            "RandomRotation", "RandomSaturation", "RandomSharpness",
                            "RandomShear", "RandomTranslation", "RandomZoom", "Resizing",
                            "Solarization"],
}

DOCS = Path(__file__).resolve().parents[2] / "docs" / "layers.md"


def _left_out():
    """The text of the '- **Left out ...**' bullets of docs/layers.md."""
    text = DOCS.read_text(encoding="utf-8").split("what is left out", 1)[1]
    bullets = text.split("\n- ")
    return "\n".join(b for b in bullets if b.startswith("**Left out"))


def test_every_keras_name_of_these_families_is_provided_or_documented_as_left_out():
    left_out_section = _left_out()
    missing = []
    for family, names in KERAS_NAMES.items():
        for name in names:
            if not hasattr(L, name) and f"`{name}`" not in left_out_section:
                missing.append(f"{family}.{name}")
    assert not missing, f"Keras layer names neither in npgrad.layers nor left out in docs: {missing}"


def test_what_npgrad_provides_is_not_listed_as_left_out():
    left_out_section = _left_out()
    both = [name for names in KERAS_NAMES.values() for name in names
            if hasattr(L, name) and f"`{name}`" in left_out_section]
    assert not both, f"provided but listed as left out in docs/layers.md: {both}"
