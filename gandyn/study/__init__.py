"""The harness every study in ``studies/`` runs on (:class:`Study`, :class:`Claim`)."""

from gandyn.study.harness import Claim, Study

__all__ = ["Claim", "Study"]
