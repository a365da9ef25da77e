"""Utilities: gradient checking, seeding, label encoding, progress bar, summary table."""

from npgrad.utils.gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError"]
