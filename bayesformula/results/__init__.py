"""Results: predictions from draws, pandas tables, log-likelihood, LOO and R2.

Modules: :mod:`~bayesformula.results.predict`, :mod:`~bayesformula.results.tables`,
:mod:`~bayesformula.results.compare`.
"""
