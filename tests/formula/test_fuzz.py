"""Fuzzed formulas: whatever string is passed, `bf.Model` builds a model or raises a
`bf.BayesformulaError`, quickly, and never runs code written in the formula.

Formulas are generated from the grammar bayesformula accepts (responses and their helpers,
common terms, transforms, interactions, group-specific terms, formulas of auxiliary parameters)
over a small fixed data frame, and then mutated: truncated, with stray or doubled operators,
unbalanced brackets and quotes, unicode and zero-width characters, very long sums, nesting
hundreds of levels deep, and calls of unknown functions. Models are only constructed, never
fitted. A parametrized corpus of code-injection payloads, placed everywhere a formula can hold an
expression, must be refused without leaving a trace on disk.

The suite runs a fixed (derandomized) sample of examples. A longer search sets the number of
examples per fuzzed test, and optionally a seed for a random (not derandomized) search::

    BF_FUZZ_EXAMPLES=5000 python -m pytest tests/formula/test_fuzz.py -p no:cacheprovider
    BF_FUZZ_EXAMPLES=5000 BF_FUZZ_SEED=7 python -m pytest tests/formula/test_fuzz.py
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import bayesformula as bf
from bayesformula.errors import BayesformulaError, FormulaError, FormulaSyntaxError

#: Seconds one model construction may take.
TIME_LIMIT = 5.0
EXAMPLES = int(os.environ.get("BF_FUZZ_EXAMPLES", "150"))
SEED = os.environ.get("BF_FUZZ_SEED")
MARKER = "MARKER"

_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


def _seeded(test):
    return seed(int(SEED))(test) if SEED is not None else test


def _data() -> pd.DataFrame:
    """Numeric, categorical, ordered, boolean and count columns, and helper columns."""
    n = 12
    rng = np.random.default_rng(0)
    y = np.round(rng.uniform(1.0, 9.0, n), 2)
    trials = 10 + np.arange(n) % 3
    return pd.DataFrame(
        {
            "y": y,
            "x": np.round(rng.normal(0.0, 1.0, n), 3),
            "z": np.linspace(-1.0, 2.0, n),
            "w": np.round(rng.uniform(0.5, 2.0, n), 2),
            "k": rng.integers(0, 11, n),
            "n": trials,
            "m": rng.integers(0, 6, n),
            "a": list("pqr" * 4),
            "g": list("ABCD" * 3),
            "h": ["u", "v"] * 6,
            "o": pd.Categorical(list("lmh" * 4), categories=["l", "m", "h"], ordered=True),
            "b": [True, False, False] * 4,
            "yes": ["no", "yes", "yes", "no"] * 3,
            "st": ["none", "right", "left", "none"] * 3,
            "st2": ["none", "interval", "right", "left"] * 3,
            "hi": y + 1.0,
            "lo": np.zeros(n),
            "id": 10**6 + np.arange(n),
        }
    )


DATA = _data()

# ------------------------------------------------------------------------------ the grammar
NUMERIC = ["x", "z", "y", "w", "k", "n", "m", "id"]
CATEGORICAL = ["a", "g", "h", "o", "b", "yes"]
UNKNOWN_NAMES = ["q", "xx", "é", "Intercept", "np", "x.y", "bf_literal_0", "__x", "`x y`", "x2"]
NUMBERS = ["0", "1", "2", "3", "0.5", "10", "100", "-1", "1e3", ".5", "True", "None"]
UNARY = ["log", "np.log", "np.exp", "sqrt", "abs", "np.log1p", "exp", "np.tanh", "np.round"]
STATEFUL = ["scale", "center", "standardize"]
UNKNOWN_CALLS = ["foo", "os.system", "np.random.normal", "np.load", "eval", "open", "getattr", "c"]
PAYLOADS = [
    f"open('{MARKER}', 'w')",
    f"np.save('{MARKER}', x)",
    f"os.system('touch {MARKER}')",
    f"__import__('os').system('touch {MARKER}')",
    f"np.lib.npyio.os.system('touch {MARKER}')",
]

names = st.sampled_from(NUMERIC + CATEGORICAL)
numbers = st.sampled_from(NUMBERS)


def _join(sep):
    return lambda parts: sep.join(parts)


arithmetic = st.recursive(
    st.one_of(st.sampled_from(NUMERIC), numbers),  # numbers only: no string arithmetic
    lambda inner: st.one_of(
        st.tuples(
            inner, st.sampled_from(["+", "-", "*", "/", "**", ">", "<=", "==", "!="]), inner
        ).map(_join(" ")),
        inner.map(lambda s: f"({s})"),
        st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda s: f"-{s}"),
        st.tuples(inner, inner, inner).map(lambda t: f"np.where({t[0]} > 0, {t[1]}, {t[2]})"),
    ),
    max_leaves=6,
)

valid_atoms = st.one_of(
    names,
    st.sampled_from(
        [
            "C(a)",
            "C(x)",
            "C(k)",
            "C(a, levels=['r', 'q', 'p'])",
            "C(a, Sum)",
            "T(a, 'q')",
            "S(g)",
            "poly(x, 2)",
            "bs(x, df=4)",
            "bs(x, knots=[0.0], degree=2, center=False)",
            "mo(o)",
            "mo(m)",
            "mo(a, levels=['p', 'q', 'r'])",
            "hsgp(x, m=5, c=1.5)",
            "hsgp(x, z, m=[3, 3], c=1.5)",
            "hsgp(x, m=4, c=1.5, by=a)",
            "hsgp(x, m=4, L=5, cov='matern32')",
            "offset(np.log(n))",
            "offset(x)",
            "a[p]",
        ]
    ),
    st.tuples(st.sampled_from(UNARY + STATEFUL), st.sampled_from(NUMERIC)).map(
        lambda t: f"{t[0]}({t[1]})"
    ),
    arithmetic.map(lambda s: f"I({s})"),
    arithmetic.map(lambda s: f"{{{s}}}"),
)

invalid_atoms = st.one_of(
    st.sampled_from(UNKNOWN_NAMES),
    st.sampled_from(["x[q]", "'x'", "3", "2.5", "None", "'q'", "C(a, levels=['p'])", "C(3)"]),
    st.sampled_from(
        [  # too large to compute, or invalid arithmetic on literals
            "I(1/0)",
            "I(x + 10.0**400)",
            "I(9**(9**9))",
            "{2**(2**20) * x}",
            "I('q' * 10**12)",
            "I([1] * 10**12)",
            "I(x ** -(0 ** -1))",
            "poly(x, 100000)",
            "poly(x, -1)",
            "bs(x, df=1000000)",
            "hsgp(x, m=100000000, c=1.5)",
            "hsgp(x, z, m=[100000, 100000], c=1.5)",
            "hsgp(I(x + 1), m=3, c=1.5)",
            "hsgp(scale(x), m=3, c=1.5)",
            "mo(o, levels=I(x))",
            "mo(id)",
            "(x + a)**100000000",
            "(x + a)**0",
            "log(x)**2",
            "x*a*x",
            "x*a*g*h*z*k*m*n*w*b*o*yes",
            "(x + z + a + g + h + k + m + n + w + b + o + yes)**12",
        ]
    ),
    st.tuples(st.sampled_from(UNARY + STATEFUL), names).map(lambda t: f"{t[0]}({t[1]})"),
    st.tuples(st.sampled_from(UNKNOWN_CALLS), names).map(lambda t: f"{t[0]}({t[1]})"),
    st.sampled_from(PAYLOADS),
)

# mostly valid terms, so that many formulas get as far as building the design
atoms = st.one_of(valid_atoms, valid_atoms, valid_atoms, valid_atoms, invalid_atoms)

terms = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([":", "*", "/", " - ", " + "]), inner).map(_join("")),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} + {t[1]})"),
        st.tuples(inner, inner, st.sampled_from(["2", "3", "1", "0", "x"])).map(
            lambda t: f"({t[0]} + {t[1]})**{t[2]}"
        ),
    ),
    max_leaves=4,
)

group_exprs = st.one_of(st.sampled_from(["1", "x", "1 + x", "0 + x", "a", "x + z", "C(a)"]), terms)
factors = st.sampled_from(["g", "h", "g:h", "g/h", "a", "x", "C(k)", "q", "o", "g:a"])
group_terms = st.tuples(group_exprs, st.sampled_from(["|", "||"]), factors).map(
    lambda t: f"({t[0]}{t[1]}{t[2]})"
)

right_sides = st.tuples(
    st.sampled_from(["", "0 + ", "1 + ", "-1 + "]),
    st.lists(st.one_of(terms, terms, group_terms), min_size=1, max_size=4).map(_join(" + ")),
    st.sampled_from(["", "", " - 1", " + 0", " - x"]),
).map(_join(""))

#: Responses with a family that fits them (and some that fit none).
RESPONSES = [
    ("y", "gaussian"),
    ("np.log(y)", "gaussian"),
    ("log(y)", "t"),
    ("I(y + 1)", "gaussian"),
    ("scale(y)", "gaussian"),
    ("k", "poisson"),
    ("a", "categorical"),
    ("o", "cumulative"),
    ("yes", "bernoulli"),
    ("yes[yes]", "bernoulli"),
    ("p(k, n)", "binomial"),
    ("p(k, 12)", "binomial"),
    ("prop(k, n)", "binomial"),
    ("proportion(k, 12)", "binomial"),
    ("c(k, m, n)", "multinomial"),
    ("censored(y, st)", "gaussian"),
    ("censored(y, hi, st2)", "gaussian"),
    ("censored(np.log(y), st)", "gaussian"),
    ("truncated(y, lb=0)", "gaussian"),
    ("truncated(y, ub=100)", "gaussian"),
    ("truncated(y, lb=lo, ub=100)", "gaussian"),
    ("weighted(y, w)", "gaussian"),
    ("weighted(y, 2)", "poisson"),
    # not valid
    ("p(k, 'n')", "binomial"),
    ("p(k, None)", "binomial"),
    ("p(k)", "binomial"),
    ("c(k, m)", "gaussian"),
    ("censored(y, 'right')", "gaussian"),
    ("truncated(y)", "gaussian"),
    ("weighted(y, -w)", "gaussian"),
    ("censored(y, lambda: 1)", "gaussian"),
]
FAMILIES = ["gaussian", "poisson", "binomial", "bernoulli", "multinomial", "t", "cumulative"]
AUX_PARAMS = ["sigma", "sigma", "nu", "alpha", "mu", "psi", "bogus", "1", "sigma[x]", ""]

responses = st.one_of(
    st.sampled_from(RESPONSES),
    st.sampled_from(RESPONSES),
    st.tuples(st.one_of(names, st.sampled_from(UNKNOWN_NAMES)), st.sampled_from(FAMILIES)),
)

#: ``(formula, family)``: the response's family, or now and then any family.
cases = st.tuples(
    responses,
    st.sampled_from([" ~ ", "~", " ~ ", " ~ "]),
    right_sides,
    st.one_of(st.none(), st.none(), st.none(), st.sampled_from(FAMILIES)),
).map(lambda t: (f"{t[0][0]}{t[1]}{t[2]}", t[3] or t[0][1]))
formulas = cases.map(lambda case: case[0])

# ------------------------------------------------------------------------------ mutations
INSERTS = list("+-*/:|~()[]{}'\",=%&$@#!<>`\\.0 _") + [
    "**",
    "||",
    "~~",
    "((",
    "))",
    "é",
    "ß",
    "µ",
    "²",
    "٣",
    "ⅷ",
    "😀",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u0301",
    "\x00",
    "\n",
    "\t",
    "\r",
    "np.",
    "I(",
    "{",
    "(1|",
    "lambda",
    "__class__",
]
OPENERS = ["(", "{", "log(", "np.exp(", "I(", "C(", "foo(", "scale(", "np.log(", "(1 + x|", "["]
DEPTHS = [2, 8, 30, 31, 32, 33, 40, 60, 85, 100, 200, 300, 400]
LONG = [10, 100, 400, 1000, 2000]


def _closer(opener: str) -> str:
    return {"{": "}", "[": "]", "(1 + x|": "g)"}.get(opener, ")")


@st.composite
def mutated(draw, base):
    """A generated formula, perhaps mutated into something that is probably not a formula."""
    return _mutate(draw, draw(base))


@st.composite
def mutated_cases(draw):
    """``(formula, family)`` with the formula perhaps mutated."""
    formula, family = draw(cases)
    return _mutate(draw, formula), family


def _mutate(draw, text: str) -> str:
    kind = draw(
        st.sampled_from(
            ["none", "truncate", "insert", "delete", "double", "nest", "long", "insert", "swap"]
        )
    )
    pos = draw(st.integers(1, max(len(text), 1)))
    if kind == "truncate":
        text = text[:pos]
    elif kind == "insert":
        text = text[:pos] + draw(st.sampled_from(INSERTS)) + text[pos:]
    elif kind == "delete":
        text = text[:pos] + text[pos + 1 :]
    elif kind == "double":
        end = draw(st.integers(pos, min(len(text), pos + 8)))
        text = text[:end] + text[pos:end] + text[end:]
    elif kind == "swap" and len(text) > 1:
        i = min(pos, len(text) - 2)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    elif kind == "nest":
        opener = draw(st.sampled_from(OPENERS))
        depth = draw(st.sampled_from(DEPTHS))
        close = depth - draw(st.sampled_from([0, 0, 0, 1, -1]))
        inner = draw(st.sampled_from(["x", "y", "x + z", "a", "1"]))
        nested = opener * depth + inner + _closer(opener) * max(close, 0)
        where = draw(st.sampled_from(["term", "term", "response", "group"]))
        if where == "response":
            text = f"{nested} ~ x"
        elif where == "group":
            text = f"y ~ x + (1|{nested})"
        else:
            text = f"y ~ x + {nested}"
    elif kind == "long":
        size = draw(st.sampled_from(LONG))
        op = draw(st.sampled_from([" + ", ":", "*", " - ", " + I(x + 1) + ", "+"]))
        term = draw(st.sampled_from(["x", "z", "a", "I(x + 1)", "log(x)"]))
        body = op.join([term] * size)
        inside = draw(st.sampled_from(["{}", "I({})", "({}|g)", "({})**2", "{}"]))
        text = f"y ~ {inside.format(body)}"
    return text


# ------------------------------------------------------------------------------ the property
_AUDIT = {"armed": False, "events": [], "installed": False}
# never legitimate while a model is constructed
_FORBIDDEN_EVENTS = ("os.system", "builtins.breakpoint", "builtins.input", "pdb.Pdb")
# legitimate for the libraries (PyTensor may start a compiler), not with the formula's marker
_SIDE_EFFECT_EVENTS = (
    "open",
    "os.",
    "subprocess.Popen",
    "shutil.",
    "socket.",
    "ctypes.",
    "webbrowser.open",
)


def _audit(event, args):
    """Record side effects a formula must never cause (while armed)."""
    if not _AUDIT["armed"]:
        return
    if event in _FORBIDDEN_EVENTS or (
        event.startswith(_SIDE_EFFECT_EVENTS) and MARKER in repr(args)
    ):
        _AUDIT["events"].append((event, repr(args)[:200]))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """An empty directory to build models in, with the audit hook installed (once)."""
    import pymc  # noqa: F401  (raises the recursion limit on import: before Hypothesis runs)

    if not _AUDIT["installed"]:  # audit hooks cannot be removed: install one for the session
        sys.addaudithook(_audit)
        _AUDIT["installed"] = True
    return tmp_path_factory.mktemp("fuzz")


class _Timeout(Exception):
    """Raised by the watchdog when one model construction runs far too long."""


@contextlib.contextmanager
def _watchdog(seconds: float):
    """Interrupt a construction that hangs (where the platform has interval timers)."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def _raise(signum, frame):
        raise _Timeout(f"constructing the model took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _construct(formula, family: str, workdir) -> str:
    """Build the model; return "model" or "error" and check time and side effects."""
    _AUDIT["events"].clear()
    start = time.perf_counter()
    outcome = "model"
    with contextlib.chdir(workdir), _watchdog(2 * TIME_LIMIT), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _AUDIT["armed"] = True
        try:
            if isinstance(formula, tuple):
                formula = bf.Formula(*formula)
            model = bf.Model(formula, DATA, family=family)
        except BayesformulaError as err:
            outcome = "error"
            assert str(err), "a bayesformula error must have a message"
        else:
            assert isinstance(model, bf.Model)
        finally:
            _AUDIT["armed"] = False
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_LIMIT, f"constructing {formula!r} took {elapsed:.1f} s"
    assert not _AUDIT["events"], f"{formula!r} caused {_AUDIT['events']}"
    assert not os.listdir(workdir), f"{formula!r} wrote {os.listdir(workdir)}"
    return outcome


@_seeded
@_SETTINGS
@given(case=mutated_cases())
def test_fuzzed_formula_builds_or_raises_a_bayesformula_error(workdir, case):
    _construct(*case, workdir)


@_seeded
@_SETTINGS
@given(
    main=mutated(formulas),
    aux=st.lists(
        st.tuples(st.sampled_from(AUX_PARAMS), mutated(right_sides)).map(_join(" ~ ")),
        min_size=1,
        max_size=2,
    ),
    family=st.sampled_from(["gaussian", "t", "negativebinomial", "zero_inflated_poisson"]),
)
def test_fuzzed_auxiliary_formulas_build_or_raise(workdir, main, aux, family):
    _construct((main, *aux), family, workdir)


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x",
        "y ~ x*a + (1 + x|g) + (1|g:h)",
        "y ~ I(x**2) + {z - 1} + np.log(w) + scale(x) + C(k)",
        "p(k, n) ~ x + (x||g)",
        "censored(y, st) ~ mo(o) + hsgp(z, m=4, c=1.5)",
        "truncated(y, lb=0) ~ bs(x, df=4)",
        "weighted(y, w) ~ 0 + a",
    ],
)
def test_valid_formulas_from_the_grammar_build(workdir, formula):
    family = "binomial" if formula.startswith("p(") else "gaussian"
    assert _construct(formula, family, workdir) == "model"


#: What the fuzzer found, each with the error it must raise now.
REGRESSIONS = [
    ("y ~ 3", FormulaError, "stands in the formula where a term needs a column"),
    ("y ~ x + (1|None)", FormulaError, "stands in the formula where a term needs a column"),
    ("p(k, 'n') ~ x", FormulaError, r"the trials in 'p\(k, 'n'\)' .* must be a column or a"),
    ("p(k, None) ~ x", FormulaError, "must be a column or a number, got None"),
    ("y ~ abs(a)", FormulaError, r"could not build the design for 'y ~ abs\(a\)'"),
    ("y ~ C(3)", FormulaError, r"C\(\) transforms a column of the data"),
    ("y ~ np.log(2)", FormulaError, r"the term 'np.log\(2\)' uses no column of the data"),
    ("y ~ I(np.where(0 > 0, 0, 0)) - 1", FormulaError, "uses no column of the data"),
    ("y ~ I(1/0)", FormulaError, r"1 / 0 cannot be computed \(division by zero\)"),
    ("y ~ I(x + 10.0**400)", FormulaError, r"10.0 \*\* 400 is too large to compute"),
    ("y ~ I(9**(9**9))", FormulaError, "is too large to compute"),
    ("y ~ I('q' * 10**12)", FormulaError, "the repetition 'q' .* is too large"),
    ("y ~ I([1] * 10**12)", FormulaError, r"the repetition \[1\] .* is too large"),
    ("y ~ poly(x, 100000)", FormulaError, r"degree=100000 is more than poly\(\) supports"),
    ("y ~ poly(x, -1)", FormulaError, "degree=-1 must be at least 1"),
    ("y ~ bs(x, df=1000000)", FormulaError, r"df=1000000 is more than bs\(\) supports"),
    ("y ~ hsgp(x, m=100000000, c=1.5)", FormulaError, "gives 100000000 basis functions"),
    ("y ~ hsgp(I(x + 1), m=3, c=1.5)", FormulaError, "'I' is not available inside"),
    ("y ~ mo(o, levels=I(x))", FormulaError, "'I' is not available inside"),
    ("y ~ mo(id)", FormulaError, r"mo\(id\)' would have 1000011 steps"),
    ("y ~ (x + a)**100000000", FormulaError, r"the power \*\*100000000 .* from 1 to 100"),
    ("y ~ (x + a)**0", FormulaError, r"the power \*\*0 .* from 1 to 100"),
    ("y ~ log(x)**2", FormulaError, "interaction of a single term with itself"),
    ("y ~ a*x*a", FormulaError, "has the interaction of a, x twice"),
    ("y ~ x*a*g*h*z*k*m*n*w*b*o*yes", FormulaError, "expands to more than 1000 terms"),
    ("y ~ " + "(" * 40 + "x" + ")" * 40, FormulaSyntaxError, "more than 32 levels deep"),
    ("censored(" + "(" * 40 + "y" + ")" * 40 + ", st) ~ x", FormulaSyntaxError, "32 levels"),
    ("y ~ I(" + " + ".join(["x"] * 150) + ")", FormulaSyntaxError, "nests more than 100"),
]


@pytest.mark.parametrize(
    ("formula", "error", "match"), REGRESSIONS, ids=[r[0][:40] for r in REGRESSIONS]
)
def test_found_by_fuzzing_raises_a_clear_error(workdir, formula, error, match):
    with pytest.raises(error, match=match):
        bf.Model(formula, DATA)


@pytest.mark.parametrize(
    ("formula", "family", "expected"),
    [
        ("yes ~ a/x", "bernoulli", {"a": ("a[q]", "a[r]"), "a:x": ("a[p]:x", "a[q]:x", "a[r]:x")}),
        ("yes ~ 0 + (x + a)**2", "bernoulli", {"a": ("a[p]", "a[q]", "a[r]")}),
    ],
)
def test_nesting_and_powers_label_each_terms_own_columns(formula, family, expected):
    design = bf.Model(formula, DATA, family=family).design
    terms = {t.name: t for t in design.common_terms}
    for name, columns in expected.items():
        assert terms[name].columns == columns
        assert terms[name].slice.stop - terms[name].slice.start == len(columns)
    assert sum(len(t.columns) for t in design.common_terms) == design.X.shape[1]


def test_nesting_error_points_at_the_bracket_one_level_too_deep():
    formula = "y ~ x + " + "log(" * 40 + "x" + ")" * 40
    with pytest.raises(FormulaSyntaxError) as info:
        bf.Model(formula, DATA)
    lines = str(info.value).splitlines()
    row = next(i for i, line in enumerate(lines) if line.strip() == formula)
    caret = lines[row + 1].index("^") - lines[row].index(formula)
    assert caret == formula.index("(", len("y ~ x + ") + 4 * 32)  # the 33rd "log("


def test_generated_formulas_include_valid_models(workdir):
    """The grammar is not just noise: a fair share of unmutated examples build a model."""
    outcomes = []

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(case=cases)
    def collect(case):
        outcomes.append(_construct(*case, workdir))

    collect()
    assert outcomes.count("model") >= 10, outcomes.count("model")
    assert outcomes.count("error") >= 10, outcomes.count("error")


# ------------------------------------------------------------------------------ injection corpus
INJECTIONS = {
    "open": f"open('{MARKER}', 'w')",
    "os.system": f"os.system('touch {MARKER}')",
    "__import__": f"__import__('os').system('touch {MARKER}')",
    "np.save": f"np.save('{MARKER}', x)",
    "np.savetxt": f"np.savetxt('{MARKER}', x)",
    "np.load": f"np.load('{MARKER}')",
    "np.memmap": f"np.memmap('{MARKER}', mode='w+', shape=1)",
    "np.lib": f"np.lib.npyio.os.system('touch {MARKER}')",
    "np.lib.format": f"np.lib.format.open_memmap('{MARKER}', mode='w+', shape=1)",
    "np.testing.os": f"np.testing.os.system('touch {MARKER}')",
    "column.tofile": f"x.values.tofile('{MARKER}')",
    "mro": "x.__class__.__mro__",
    "subclasses": "().__class__.__bases__[0].__subclasses__()",
    "dunder_globals": "np.log.__globals__",
    "getattr": f"getattr(np, 'save')('{MARKER}', x)",
    "eval": f"eval(\"open('{MARKER}', 'w')\")",
    "exec": f"exec(\"open('{MARKER}', 'w')\")",
    "compile": f"compile(\"open('{MARKER}', 'w')\", '{MARKER}', 'exec')",
    "lambda": f"(lambda: open('{MARKER}', 'w'))()",
    "lambda_arg": "lambda v: v",
    "globals": f"globals()['os'].system('touch {MARKER}')",
    "vars": f"vars(np)['save']('{MARKER}', x)",
    "breakpoint": "breakpoint()",
    "fstring": f"f\"{{open('{MARKER}', 'w')}}\"",
    "pathlib": f"pathlib.Path('{MARKER}').touch()",
    "vectorize": f"np.vectorize(open)('{MARKER}', 'w')",
    "frompyfunc": f"np.frompyfunc(open, 2, 1)('{MARKER}', 'w')",
    "backquoted": f"`open('{MARKER}', 'w')`",
    "walrus": f"(f := open('{MARKER}', 'w'))",
    "subprocess": f"subprocess.run(['touch', '{MARKER}'])",
    "print_open": f"print(open('{MARKER}', 'w'))",
}

PLACEMENTS = {
    "term": "y ~ x + <P>",
    "I": "y ~ I(<P>)",
    "I_arith": "y ~ I(x + <P>)",
    "braces": "y ~ {<P>}",
    "np.log": "y ~ np.log(<P>)",
    "C": "y ~ C(<P>)",
    "C_levels": "y ~ C(a, levels=<P>)",
    "group_expr": "y ~ x + (<P>|g)",
    "group_factor": "y ~ x + (1|<P>)",
    "group_double": "y ~ x + (x||<P>)",
    "interaction": "y ~ x:<P>",
    "mo": "y ~ mo(<P>)",
    "hsgp": "y ~ hsgp(<P>, m=5, c=1.5)",
    "hsgp_arg": "y ~ hsgp(x, m=<P>, c=1.5)",
    "response": "<P> ~ x",
    "p": "p(k, <P>) ~ x",
    "censored_y": "censored(<P>, st) ~ x",
    "censored_status": "censored(y, <P>) ~ x",
    "truncated": "truncated(y, lb=<P>) ~ x",
    "weighted": "weighted(y, <P>) ~ x",
    "aux_term": ("y ~ x", "sigma ~ <P>"),
    "aux_I": ("y ~ x", "sigma ~ I(<P>) + (1|g)"),
    "aux_param": ("y ~ x", "<P> ~ x"),
}


@pytest.mark.parametrize("placement", list(PLACEMENTS))
@pytest.mark.parametrize("payload", list(INJECTIONS))
def test_injection_is_refused_before_evaluation(tmp_path, monkeypatch, workdir, payload, placement):
    monkeypatch.chdir(tmp_path)
    template = PLACEMENTS[placement]
    parts = (template,) if isinstance(template, str) else template
    formula = bf.Formula(*(p.replace("<P>", INJECTIONS[payload]) for p in parts))
    _AUDIT["events"].clear()
    _AUDIT["armed"] = True
    try:
        with pytest.raises(FormulaError) as info:
            bf.Model(formula, DATA)
    finally:
        _AUDIT["armed"] = False
    assert "could not build the design" not in str(info.value), "the payload was evaluated"
    assert not list(tmp_path.iterdir()), "the payload wrote a file"
    assert not _AUDIT["events"], _AUDIT["events"]
