"""The keyword arguments each engine takes besides `fit`'s own, and the check that refuses the
others before anything is built or sampled.

An engine left to itself would drop a keyword it does not know without a word (PyMC hands
unknown keywords to step methods that ignore them; the approximations take ``**kwargs``), so a
misspelt ``max_treedepht=12`` would sample with the default. Each sampler therefore declares
what it takes: an attribute ``keywords`` (a set of names) on the sampler, or an entry in
`KEYWORDS` here for the samplers that carry none. A sampler that declares nothing (a custom
adapter registered without ``keywords``) is passed every keyword unchecked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from bayesformula.errors import ArgumentTypeError
from bayesformula.samplers.base import SAMPLERS

__all__ = [
    "COMMON",
    "KEYWORDS",
    "REPLACED",
    "accepted_keywords",
    "check_keywords",
    "engines_taking",
]

#: What `fit` passes every sampler: the protocol's arguments (`bayesformula.samplers.Sampler`).
COMMON = frozenset(
    {
        "draws",
        "tune",
        "chains",
        "cores",
        "random_seed",
        "target_accept",
        "progressbar",
        "discard_tuned_samples",
    }
)

#: Keywords of the samplers that do not declare their own (``sampler.keywords``).
KEYWORDS: dict[str, frozenset[str]] = {
    # the mode and the Hessian there: nothing to set
    "laplace": frozenset(),
    # pm.fit's optimisation steps and method
    "vi": frozenset({"n", "method"}),
    # pymc_extras.fit_pathfinder's settings (draws, seed and progress bar are fit's own)
    "pathfinder": frozenset(
        {
            "num_paths",
            "num_draws_per_path",
            "num_elbo_draws",
            "max_init_retries",
            "jitter",
            "lbfgs_config",
            "importance_sampling",
            "parallel",
            "blas_cores",
            "mp_ctx",
            "jacobian_correction",
            "vectorize_logp",
            "vectorize_postprocessing",
            "compile_kwargs",
            "initvals",
        }
    ),
}

#: Spellings from Bambi, PyMC and the engines' own interfaces that `fit` writes another way,
#: with what to write instead (used when the engine does not take the keyword itself).
REPLACED: dict[str, str] = {
    "include_mean": "include_response_params=True (Bambi 0.14 renamed include_mean)",
    "method": "inference_method= to choose the engine (ADVI is inference_method='vi', which "
    "takes method='advi')",
    "nuts_sampler_kwargs": "nuts={...} (the name PyMC 6 and Bambi 0.21 use)",
    "compute_convergence_checks": "diagnostics=False to skip bayesformula's convergence "
    "report (this engine runs no PyMC convergence checks)",
    "seed": "random_seed=",
    "rng_seed": "random_seed=",
    "progress_bar": "progressbar=",
    "num_chains": "chains=",
    "num_samples": "draws=",
    "num_draws": "draws=",
    "num_warmup": "tune=",
    "num_tune": "tune=",
    "save_warmup": "discard_tuned_samples=False to keep the warm-up",
    "model": "nothing: fit() samples its own model (add to it in `with model.build(): ...`)",
}


def accepted_keywords(name: str, sampler: Any = None) -> frozenset[str] | None:
    """The keywords sampler ``name`` takes besides `COMMON`, or None if it declares none.

    Parameters
    ----------
    name : str
        The registered name (``inference_method=``).
    sampler : object, optional
        The sampler (or its class; default: a new one from the registry); its ``keywords``
        attribute, when it has one, comes before `KEYWORDS`.

    Examples
    --------
    >>> sorted(accepted_keywords("vi"))
    ['method', 'n']
    """
    if sampler is None and name in SAMPLERS:
        sampler = SAMPLERS[name]()
    declared = _declared(sampler)
    return declared if declared is not None else KEYWORDS.get(name)


def _declared(sampler: Any) -> frozenset[str] | None:
    """A sampler's (or sampler class's) ``keywords`` attribute as a set, None without one."""
    declared = getattr(sampler, "keywords", None)
    if isinstance(declared, set | frozenset | tuple | list):
        return frozenset(declared)
    return None


def engines_taking(keyword: str) -> list[str]:
    """Registered samplers (but "auto") whose declared keywords include ``keyword``."""
    takers = []
    for name, factory in sorted(SAMPLERS.items()):
        # a sampler class's attribute or the table: no sampler is made to ask
        accepted = _declared(factory)
        accepted = KEYWORDS.get(name) if accepted is None else accepted
        if name != "auto" and accepted is not None and keyword in accepted:
            takers.append(name)
    return takers


def check_keywords(
    name: str,
    sampler: Any,
    kwargs: Mapping[str, Any],
    *,
    own: Iterable[str] = (),
    chosen_by: str | None = None,
) -> None:
    """Raise `ArgumentTypeError` for the first keyword in ``kwargs`` the sampler does not take.

    Parameters
    ----------
    name : str
        The sampler's registered name.
    sampler : object
        The sampler; see `accepted_keywords`. Nothing is checked when it declares nothing.
    kwargs : mapping
        The keywords `fit` would pass on (`COMMON` ones are always allowed).
    own : iterable of str
        `fit`'s own argument names, offered as corrections of a misspelt keyword.
    chosen_by : str, optional
        The sampler that chose this one ("auto"), named in the message.

    Raises
    ------
    ArgumentTypeError
        Naming the keyword, the engine, what to write instead (a renamed keyword, the nearest
        known name, or the engines that take it) and the keywords the engine takes.

    Examples
    --------
    >>> check_keywords("vi", None, {"n": 5000})
    >>> check_keywords("vi", None, {"nn": 5000})
    Traceback (most recent call last):
    ...
    bayesformula.errors.ArgumentTypeError: fit() got the keyword 'nn', which vi does not know; did you mean 'n'? vi takes, besides fit()'s own arguments: 'method', 'n'.
    """  # noqa: E501
    accepted = accepted_keywords(name, sampler)
    if accepted is None:
        return
    unknown = [k for k in kwargs if k not in COMMON and k not in accepted]
    if unknown:
        raise ArgumentTypeError(_message(unknown[0], name, accepted, set(own), chosen_by))


#: Where an engine takes settings that are not keywords of their own.
NOTES: dict[str, str] = {
    "numpyro": "NumPyro's NUTS settings (max_tree_depth, dense_mass, ...) go in nuts={...}",
    "blackjax": "BlackJAX's NUTS and window-adaptation settings go in nuts={...}",
}

#: Keyword lists longer than this are left out of the message (`accepted_keywords` has them).
LIST_AT_MOST = 16


def _message(key: str, name: str, accepted: frozenset, own: set, chosen_by: str | None) -> str:
    if name == "auto":
        text = f"fit() got the keyword '{key}', which inference_method='auto' does not know"
    else:
        text = f"fit() got the keyword '{key}', which {name} does not know"
    if chosen_by:
        text += f" (inference_method='{chosen_by}' chose '{name}' for this model)"
    hints = []
    if key in REPLACED:
        hints.append(f"write {REPLACED[key]}")
    takers = [t for t in engines_taking(key) if t != name]
    if takers:
        engines = ", ".join(f"'{t}'" for t in takers[:-1])
        engines = f"{engines} or '{takers[-1]}'" if engines else f"'{takers[-1]}'"
        hints.append(f"inference_method={engines} takes it")
    close = difflib.get_close_matches(key, sorted(accepted | own), n=1, cutoff=0.6)
    if not hints and close:
        hints.append(f"did you mean '{close[0]}'?")
    if not hints and name in NOTES:
        hints.append(NOTES[name])
    if hints:
        text += "; " + "; ".join(hints)
    end = " " if text.endswith("?") else ". "
    if len(accepted) > LIST_AT_MOST:
        listing = (
            f"{name} takes {len(accepted)} other keywords besides fit()'s own "
            f"(bayesformula.samplers.keywords.accepted_keywords('{name}') lists them)."
        )
    else:
        names = ", ".join(f"'{k}'" for k in sorted(accepted)) or "nothing"
        listing = f"{name} takes, besides fit()'s own arguments: {names}."
    return f"{text}{end}{listing}"
