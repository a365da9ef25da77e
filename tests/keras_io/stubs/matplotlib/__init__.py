"""A do-nothing matplotlib for running the keras.io scripts where matplotlib is absent.

The runner puts this folder on the path only when the real matplotlib cannot be imported;
plotting is then skipped (with the real one, MPLBACKEND=Agg keeps it off screen).
"""
