"""Pickling of families, links and the values they hold.

A registered family or link pickles as its registry name and unpickles as the registry's
object (`registered_family`, `bayesformula.families.links.get_link`). One that is not
registered pickles by value: `reduce_by_value` gives its class and fields, and the functions
among them that pickle cannot find by name (lambdas, functions defined inside others) travel
by value through cloudpickle, so that plain `pickle` handles them too.
"""

from __future__ import annotations

import pickle
from typing import Any

from bayesformula.errors import FamilyError

__all__ = ["portable", "rebuild", "reduce_by_value", "registered_family"]


class _ByValue:
    """A function pickled by value: unpickles as the function itself."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes):
        self.payload = payload

    def __reduce__(self) -> tuple:
        return (pickle.loads, (self.payload,))


def portable(value: Any) -> Any:
    """``value``, or a stand-in that pickles it by value where pickle cannot name it.

    Only callables are examined: a function pickle finds by its module and name is returned
    as it is; any other (a lambda, a function defined inside another, one of ``__main__``
    that the receiving process may not have) is carried by value with cloudpickle.

    Parameters
    ----------
    value : object
        A field of a family, link or auxiliary parameter.

    Returns
    -------
    object
        ``value`` itself, or an object that unpickles as ``value``.
    """
    if not callable(value) or isinstance(value, type):
        return value
    if getattr(value, "__module__", None) != "__main__":
        try:
            pickle.dumps(value)
        except (pickle.PicklingError, AttributeError, TypeError):
            pass
        else:
            return value
    import cloudpickle

    return _ByValue(cloudpickle.dumps(value))


def rebuild(cls: type, state: dict[str, Any]) -> Any:
    """An instance of ``cls`` with the attributes ``state`` (frozen dataclasses included)."""
    obj = object.__new__(cls)
    obj.__dict__.update(state)
    return obj


def reduce_by_value(obj: Any) -> tuple:
    """The ``__reduce__`` value of a frozen dataclass, its functions made `portable`."""
    state = {key: portable(value) for key, value in vars(obj).items()}
    return (rebuild, (type(obj), state))


def registered_family(name: str):
    """The family registered as ``name``: how a pickled registered family is restored.

    Raises
    ------
    FamilyError
        If no family of that name is registered in this process.
    """
    from bayesformula.families.registry import FAMILIES

    try:
        return FAMILIES[name]
    except KeyError:
        raise FamilyError(
            f"a pickled model uses the family '{name}', which is pickled by its registry name "
            "but not registered in this process; call register_family with it before "
            "unpickling (for example by importing the module that registers it), or pass the "
            "Family object itself as family= so that it pickles by value."
        ) from None
