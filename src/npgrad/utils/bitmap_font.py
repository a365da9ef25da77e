"""A 3x5 pixel font for drawing labels into images without any font library.

Covers A-Z (lowercase is drawn as uppercase), 0-9 and the punctuation model diagrams need;
unknown characters are drawn as ``?``.
"""

from __future__ import annotations

import numpy as np

#: character -> five rows of three pixels ("1" = ink)
GLYPHS = {
    "A": "010 101 111 101 101", "B": "110 101 110 101 110", "C": "011 100 100 100 011",
    "D": "110 101 101 101 110", "E": "111 100 110 100 111", "F": "111 100 110 100 100",
    "G": "011 100 101 101 011", "H": "101 101 111 101 101", "I": "111 010 010 010 111",
    "J": "001 001 001 101 010", "K": "101 101 110 101 101", "L": "100 100 100 100 111",
    "M": "101 111 111 101 101", "N": "110 101 101 101 101", "O": "010 101 101 101 010",
    "P": "110 101 110 100 100", "Q": "010 101 101 110 011", "R": "110 101 110 101 101",
    "S": "011 100 010 001 110", "T": "111 010 010 010 010", "U": "101 101 101 101 111",
    "V": "101 101 101 101 010", "W": "101 101 111 111 101", "X": "101 101 010 101 101",
    "Y": "101 101 010 010 010", "Z": "111 001 010 100 111",
    "0": "111 101 101 101 111", "1": "010 110 010 010 111", "2": "110 001 010 100 111",
    "3": "110 001 010 001 110", "4": "101 101 111 001 001", "5": "111 100 110 001 110",
    "6": "011 100 111 101 111", "7": "111 001 010 010 010", "8": "111 101 111 101 111",
    "9": "111 101 111 001 110",
    "(": "001 010 010 010 001", ")": "100 010 010 010 100", "[": "011 010 010 010 011",
    "]": "110 010 010 010 110", ",": "000 000 000 010 100", ".": "000 000 000 000 010",
    "_": "000 000 000 000 111", "-": "000 000 111 000 000", ":": "000 010 000 010 000",
    "/": "001 001 010 100 100", "=": "000 111 000 111 000", ">": "100 010 001 010 100",
    "<": "001 010 100 010 001", "?": "110 001 010 000 010", "'": "010 010 000 000 000",
    "+": "000 010 111 010 000", "*": "101 010 101 000 000", " ": "000 000 000 000 000",
}

GLYPH_WIDTH, GLYPH_HEIGHT = 3, 5


def _bitmap(char):
    rows = GLYPHS.get(char.upper(), GLYPHS["?"]).split()
    return np.array([[c == "1" for c in row] for row in rows], dtype=bool)


def text_size(text, scale=2):
    """(width, height) in pixels of ``text`` drawn at ``scale`` (one blank column between
    characters)."""
    if not text:
        return 0, GLYPH_HEIGHT * scale
    return (len(text) * (GLYPH_WIDTH + 1) - 1) * scale, GLYPH_HEIGHT * scale


def draw_text(image, text, top, left, color=0, scale=2):
    """Draw ``text`` into the uint8 ``image`` (H, W) or (H, W, C) with its top-left corner at
    (top, left); pixels outside the image are skipped."""
    x = left
    for char in text:
        glyph = np.kron(_bitmap(char), np.ones((scale, scale), dtype=bool))
        h, w = glyph.shape
        rows = slice(max(top, 0), min(top + h, image.shape[0]))
        cols = slice(max(x, 0), min(x + w, image.shape[1]))
        if rows.start < rows.stop and cols.start < cols.stop:
            part = glyph[rows.start - top:rows.stop - top, cols.start - x:cols.stop - x]
            image[rows, cols][part] = color
        x += (GLYPH_WIDTH + 1) * scale
