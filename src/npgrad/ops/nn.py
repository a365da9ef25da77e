"""Layer maths: dropout, batch norm, layer norm, embedding. STUB: being written by a helper."""


def dropout(x, rate, training=False, seed=None, noise_shape=None):
    """Inverted dropout."""
    raise NotImplementedError


def batch_norm(x, gamma, beta, moving_mean, moving_variance, training=False, momentum=0.99,
               epsilon=1e-3, axis=-1):
    """Batch normalization."""
    raise NotImplementedError


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3):
    """Layer normalization."""
    raise NotImplementedError


def embedding(indices, table):
    """Row lookup table[indices]."""
    raise NotImplementedError
