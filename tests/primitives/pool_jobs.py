"""The pool of ``primitives/parallel.py`` turned on for a test, with the jobs it runs
recorded: shared by the tests that check a pass gives the same values in the pool's blocks."""

from npgrad.primitives import parallel


def share(monkeypatch, pretend=True, any_size=True):
    """The pool on, with blocks of any size (unless not ``any_size``); returns the list of
    block counts of the calls that used it. ``pretend``: two threads whatever BLAS has
    (hypothesis tests, which cannot take the function-scoped ``two_threads`` fixture)."""
    monkeypatch.setenv("NPGRAD_PARALLEL", "1")
    if any_size:
        monkeypatch.setattr(parallel, "MIN_BLOCK_BYTES", 8)
        monkeypatch.setattr(parallel, "COMPUTE_BLOCK_BYTES", 8)
    if pretend:
        monkeypatch.setattr(parallel, "threads", lambda: 2)
    jobs = []
    original = parallel._Job

    class Recorded(original):
        def __init__(self, fn, bounds):
            jobs.append(len(bounds))
            super().__init__(fn, bounds)

    monkeypatch.setattr(parallel, "_Job", Recorded)
    return jobs
