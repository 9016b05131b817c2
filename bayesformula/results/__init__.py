"""Results: predictions from draws, pandas tables, log-likelihood, LOO and R2.

Modules: `bayesformula.results.predict`, `bayesformula.results.tables`,
`bayesformula.results.compare`.
"""
