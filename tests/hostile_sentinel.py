"""A tripwire: importing this module or calling ``fire`` creates the file ``$NPGRAD_SENTINEL``.

Hostile configs name it (``tests.hostile_sentinel.fire``, ``module``/``class_name`` pairs,
Keras's ``registered_name``); if any loader ever imported or called it, the file appears.
"""

import os


def fire(*args, **kwargs):
    """Leave the sentinel file behind: proof that code named by a file was executed."""
    path = os.environ.get("NPGRAD_SENTINEL")
    if path:
        with open(path, "w") as file:
            file.write("executed")


fire()
