"""A small Transformer encoder that reads generated English sentences and answers "who gave it?".

    python examples/transformer_text.py              # 12,000 sentences, 6 epochs (about 1.5 min)
    python examples/transformer_text.py --quick      # 3,000 sentences, 5 epochs (< 30 s)
    python examples/transformer_text.py --baseline   # also train a bag-of-words model

The sentences come from a small grammar (no download) in three voices:

    yesterday the tall alice quickly gave a red book to old bob     -> alice
    the letter was given to carol by the young dave                 -> dave
    erin got an apple from frank today                              -> frank

Every sentence names two people; which one is the giver depends on word order and on the
verb ("gave ... to", "was given ... by", "got ... from"), never on the names themselves. A
bag-of-words model sees both names and cannot tell them apart (its accuracy stays near 50%);
self-attention can relate each name to the verb and the prepositions around it.

Model: token + position embedding (a layer written below, with a padding mask) ->
Transformer encoder block (MultiHeadAttention, residual + LayerNormalization, feed-forward
Dense-ReLU-Dense, residual + LayerNormalization) -> GlobalAveragePooling1D (over the real
words only: the padding mask travels with the tensors) -> Dropout -> Dense(softmax over the
names). Adam, sparse categorical cross-entropy. Prints "test accuracy <x>".
"""

import argparse
import time

import numpy as np

import npgrad
from npgrad import layers as L

NAMES = ["alice", "bob", "carol", "dave", "erin", "frank"]
ADJECTIVES = ["tall", "old", "young", "kind", "quiet", "happy"]
OBJECTS = ["book", "apple", "letter", "ball", "flower", "key"]
OBJECT_ADJECTIVES = ["red", "small", "new", "heavy"]
ADVERBS = ["quickly", "slowly", "gladly", "quietly"]
TIMES = ["yesterday", "today", "later", "again"]
WORDS = (["<pad>", "the", "a", "an", "gave", "to", "was", "given", "by", "got", "from"]
         + NAMES + ADJECTIVES + OBJECTS + OBJECT_ADJECTIVES + ADVERBS + TIMES)
INDEX = {w: i for i, w in enumerate(WORDS)}
MAXLEN = 16


# ------------------------------------------------------------------ data
def _person(rng, name):
    words = []
    if rng.random() < 0.5:
        words.append("the")
        if rng.random() < 0.7:
            words.append(rng.choice(ADJECTIVES))
    elif rng.random() < 0.3:
        words.append(rng.choice(ADJECTIVES))
    return words + [name]


def _thing(rng):
    noun = rng.choice(OBJECTS)
    adjective = [rng.choice(OBJECT_ADJECTIVES)] if rng.random() < 0.5 else []
    first = (adjective or [noun])[0]
    article = rng.choice(["the", "an" if first[0] in "aeiou" else "a"])
    return [article] + adjective + [noun]


def make_sentence(rng):
    """One sentence (a list of words) and the index of the giver in NAMES."""
    giver, receiver = rng.choice(len(NAMES), 2, replace=False)
    g, r = _person(rng, NAMES[giver]), _person(rng, NAMES[receiver])
    voice = rng.integers(3)
    if voice == 0:    # giver gave thing to receiver
        adverb = [rng.choice(ADVERBS)] if rng.random() < 0.4 else []
        words = g + adverb + ["gave"] + _thing(rng) + ["to"] + r
    elif voice == 1:  # thing was given to receiver by giver
        words = _thing(rng) + ["was", "given", "to"] + r + ["by"] + g
    else:             # receiver got thing from giver
        words = r + ["got"] + _thing(rng) + ["from"] + g
    if rng.random() < 0.3:
        words = [rng.choice(TIMES)] + words
    elif rng.random() < 0.3:
        words = words + [rng.choice(TIMES)]
    return words, giver


def make_dataset(n, seed):
    """Token ids (n, MAXLEN), zero-padded at the end, and giver labels (n,)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, MAXLEN), dtype=np.int64)
    y = np.zeros(n, dtype=np.int64)
    for i in range(n):
        words, y[i] = make_sentence(rng)
        ids = [INDEX[w] for w in words][:MAXLEN]
        x[i, :len(ids)] = ids
    return x, y


# ------------------------------------------------------------------ model
class TokenAndPositionEmbedding(L.Layer):
    """Word embedding plus a learned embedding of each position; id 0 is padding (masked).

    Args:
        maxlen: longest sequence.
        vocab_size: number of token ids.
        embed_dim: embedding size.
    """

    cast_inputs = False  # token ids stay integers

    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.maxlen, self.vocab_size, self.embed_dim = maxlen, vocab_size, embed_dim
        self.token_embedding = L.Embedding(vocab_size, embed_dim)
        self.position_embedding = L.Embedding(maxlen, embed_dim)

    def call(self, tokens, training=False):
        positions = np.arange(tokens.shape[-1])
        return self.token_embedding(tokens) + self.position_embedding(positions)

    def compute_mask(self, inputs, mask=None):
        return np.asarray(getattr(inputs, "data", inputs)) != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embed_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(maxlen=self.maxlen, vocab_size=self.vocab_size, embed_dim=self.embed_dim)
        return config


def transformer_block(x, embed_dim, num_heads, ff_dim, rate=0.1):
    """One post-norm Transformer encoder block on a (batch, steps, embed_dim) tensor."""
    attention = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads)(x, x)
    attention = L.Dropout(rate)(attention)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, attention]))
    ff = L.Dense(ff_dim, activation="relu")(x)
    ff = L.Dropout(rate)(L.Dense(embed_dim)(ff))
    return L.LayerNormalization(epsilon=1e-6)(L.Add()([x, ff]))


def build_transformer(embed_dim=32, num_heads=2, ff_dim=64):
    tokens = npgrad.Input((MAXLEN,), dtype="int64")
    x = TokenAndPositionEmbedding(MAXLEN, len(WORDS), embed_dim)(tokens)
    x = transformer_block(x, embed_dim, num_heads, ff_dim)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dropout(0.1)(x)
    return npgrad.Model(tokens, L.Dense(len(NAMES), activation="softmax")(x))


def build_bag_of_words(embed_dim=32):
    """The baseline: word embeddings averaged, order ignored."""
    tokens = npgrad.Input((MAXLEN,), dtype="int64")
    x = L.Embedding(len(WORDS), embed_dim, mask_zero=True)(tokens)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dense(64, activation="relu")(x)
    return npgrad.Model(tokens, L.Dense(len(NAMES), activation="softmax")(x))


def train(model, data, epochs, batch_size, learning_rate, verbose):
    (x_train, y_train), (x_test, y_test) = data
    model.compile(optimizer=npgrad.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, validation_split=0.1,
              verbose=verbose)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return accuracy, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, few epochs")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="Adam's learning rate (default 2e-3, 5e-3 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", action="store_true", help="also train a bag-of-words model")
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)
    train_size = args.train_size or (3000 if args.quick else 12000)
    epochs = args.epochs or (5 if args.quick else 6)
    learning_rate = args.learning_rate or (5e-3 if args.quick else 2e-3)

    npgrad.utils.set_random_seed(args.seed)
    data = make_dataset(train_size, args.seed), make_dataset(2000, args.seed + 1)
    for words, giver in (make_sentence(np.random.default_rng(args.seed + 2)) for _ in range(3)):
        print(f"  {' '.join(words):<60} -> {NAMES[giver]}")
    model = build_transformer()
    model.summary()
    accuracy, seconds = train(model, data, epochs, args.batch_size, learning_rate, args.verbose)
    print(f"transformer: {seconds:.1f} s of training")
    print(f"test accuracy {accuracy:.4f}")
    if args.baseline:
        npgrad.utils.set_random_seed(args.seed)
        accuracy, _ = train(build_bag_of_words(), data, epochs, args.batch_size, learning_rate,
                            0)
        print(f"bag-of-words baseline: test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
