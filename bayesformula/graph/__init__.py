"""The PyMC graph of a `bayesformula.spec.ModelSpec`: coords and dims named after the terms,
``pm.Data`` containers for all data, the one likelihood dispatch (`graph.likelihood`), and the
functions compiled from the graph for predictions (`graph.predict`) and the pointwise
log-likelihood (`graph.loglik`).

PyMC is imported on first use: a model sampled on the fast path (`bayesformula.density`) never
builds a graph, and ``import bayesformula`` stays light.
"""

__all__ = ["BuiltModel", "build_graph", "build_model"]


def __getattr__(name):
    if name in __all__:
        from bayesformula.graph import model

        return getattr(model, name)
    raise AttributeError(f"module 'bayesformula.graph' has no attribute {name!r}")
