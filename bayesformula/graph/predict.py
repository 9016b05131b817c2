"""The parent parameter (and per-observation auxiliary parameters) as a compiled function of
coefficient draws and data, cut from the model's own graph.

The parent parameter's tensor is taken from the built PyMC model, its ``pm.Data`` containers
are swapped for inputs (new data), its coefficient nodes for inputs (posterior draws), and the
graph is vectorised over draws: there is no second, hand-written copy of the linear predictor
that could drift from the model. The linear predictor comes out too, and
`compile_slope_predictor` adds a quantity's derivative along a change of the data (the
graph's push-forward), for `bayesformula.slopes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bayesformula.spec.names import data_name

__all__ = ["Predictor", "SlopePredictor", "compile_predictor", "compile_slope_predictor"]


@dataclass(frozen=True)
class Predictor:
    """A compiled function: (coefficient draws, data) -> ``[parent, *aux, linpred]``: the
    parent parameter's draws ``(S, n)``, those of each auxiliary parameter in ``aux_names``
    and, where ``has_linpred``, the main formula's linear predictor."""

    function: object
    coef_names: tuple[str, ...]
    data_names: tuple[str, ...]
    aux_names: tuple[str, ...] = ()
    has_linpred: bool = False


def _inputs(built):
    """The graph's coefficient and data inputs: names, single-draw and batched stand-ins, and
    the replacement of the model's nodes by them."""
    import pytensor.tensor as pt

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
    return coef_names, data_names, core_inputs, batched_inputs, data_inputs, replace


def _replaced(outputs, replace):
    """``outputs`` with the model's coefficient and data nodes replaced by the inputs."""
    from pytensor.graph.replace import clone_replace
    from pytensor.graph.traversal import ancestors

    in_graph = set(ancestors(outputs))
    return clone_replace(outputs, {k: v for k, v in replace.items() if k in in_graph})


def _over_draws(outputs, core_inputs, batched_inputs):
    """``outputs`` of single-draw coefficients vectorised over a leading draws axis."""
    from pytensor.graph.replace import vectorize_graph

    return vectorize_graph(outputs, replace=dict(zip(core_inputs, batched_inputs, strict=True)))


def compile_predictor(built) -> Predictor:
    """Compile the vectorised parent-parameter function of a built model."""
    import pytensor
    import pytensor.tensor as pt

    coef_names, data_names, core_inputs, batched_inputs, data_inputs, replace = _inputs(built)
    aux_names = tuple(built.aux_parents)
    outputs = [built.parent] + [built.aux_parents[a] for a in aux_names]
    has_linpred = built.linpred is not None
    if has_linpred:
        outputs.append(pt.as_tensor_variable(built.linpred))
    out = _over_draws(_replaced(outputs, replace), core_inputs, batched_inputs)
    function = pytensor.function(batched_inputs + data_inputs, out, on_unused_input="ignore")
    return Predictor(
        function=function,
        coef_names=coef_names,
        data_names=data_names,
        aux_names=aux_names,
        has_linpred=has_linpred,
    )


@dataclass(frozen=True)
class SlopePredictor:
    """A compiled function: (coefficient draws, data, tangents) -> ``[value, derivative]``: a
    per-row quantity of the graph and its derivative along the tangents of the floating-point
    data inputs ``tangent_names`` (a Jacobian-vector product of the model's own graph)."""

    function: object
    coef_names: tuple[str, ...]
    data_names: tuple[str, ...]
    tangent_names: tuple[str, ...]


def compile_slope_predictor(built, output) -> SlopePredictor:
    """Compile ``output`` (the parent, the linear predictor or an auxiliary parameter's node)
    with its push-forward along the data: derivatives through the graph exactly as it
    computes the quantity."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.gradient import pushforward

    coef_names, data_names, core_inputs, batched_inputs, data_inputs, replace = _inputs(built)
    floating = [i for i, v in enumerate(data_inputs) if v.dtype.startswith("float")]
    tangents = [data_inputs[i].type(name=f"tangent_{i}") for i in floating]
    (value,) = _replaced([pt.as_tensor_variable(output)], replace)
    derivative = pushforward(
        value,
        [data_inputs[i] for i in floating],
        tangents,
        disconnected_outputs="ignore",
        return_disconnected="zero",
    )
    out = _over_draws([value, derivative], core_inputs, batched_inputs)
    function = pytensor.function(
        batched_inputs + data_inputs + tangents, out, on_unused_input="ignore"
    )
    return SlopePredictor(
        function=function,
        coef_names=coef_names,
        data_names=data_names,
        tangent_names=tuple(data_names[i] for i in floating),
    )
