"""Finance's pure rules: no Flask, kombu or session. Every broken rule raises
:class:`shared.errors.RuleViolation` (or :class:`shared.errors.Conflict`) whose ``code`` names it
and whose detail is a marked text (:mod:`shared.i18n`), answered in the reader's language; checks
that must name every failure at once answer a list of :class:`~.eligibility.Failure` instead.
Importing the package registers the labels of finance's codes (:mod:`.names`)."""

from services.finance.rules import names

__all__ = [
    "names",
]
