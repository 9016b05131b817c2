"""The parent parameter (and per-observation auxiliary parameters) as a compiled function of
coefficient draws and data, cut from the model's own graph.

The parent parameter's tensor is taken from the built PyMC model, its ``pm.Data`` containers
are swapped for inputs (new data), its coefficient nodes for inputs (posterior draws), and the
graph is vectorised over draws: there is no second, hand-written copy of the linear predictor
that could drift from the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from bayesformula.spec.names import data_name

__all__ = ["Predictor", "compile_predictor"]


@dataclass(frozen=True)
class Predictor:
    """A compiled function: (coefficient draws, data) -> parent parameter draws ``(S, n)``."""

    function: object
    coef_names: tuple[str, ...]
    data_names: tuple[str, ...]
    aux_names: tuple[str, ...] = ()


def compile_predictor(built) -> Predictor:
    """Compile the vectorised parent-parameter function of a built model."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import clone_replace, vectorize_graph
    from pytensor.graph.traversal import ancestors

    coef_names = tuple(built.coefficients)
    data_names = tuple(k for k in built.data if k not in (data_name("y"), data_name("trials")))
    core_inputs, batched_inputs, replace = [], [], {}
    for i, name in enumerate(coef_names):  # neutral names: pt.tensor parses some as dtypes
        node = built.coefficients[name]
        core = pt.tensor(name=f"coef_{i}", dtype=node.dtype, shape=(None,) * node.ndim)
        replace[node] = core
        core_inputs.append(core)
        batched = pt.tensor(name=f"draws_{i}", dtype=node.dtype, shape=(None,) * (node.ndim + 1))
        batched_inputs.append(batched)
    data_inputs = []
    for i, name in enumerate(data_names):
        shared = built.data[name]
        var = pt.tensor(name=f"data_{i}", dtype=shared.dtype, shape=(None,) * shared.ndim)
        replace[shared] = var
        data_inputs.append(var)
    aux_names = tuple(built.aux_parents)
    outputs = [built.parent] + [built.aux_parents[a] for a in aux_names]
    in_graph = set(ancestors(outputs))
    core_out = clone_replace(outputs, {k: v for k, v in replace.items() if k in in_graph})
    out = vectorize_graph(core_out, replace=dict(zip(core_inputs, batched_inputs, strict=True)))
    function = pytensor.function(batched_inputs + data_inputs, out, on_unused_input="ignore")
    return Predictor(
        function=function, coef_names=coef_names, data_names=data_names, aux_names=aux_names
    )
