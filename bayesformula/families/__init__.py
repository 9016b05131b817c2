"""Response families, links and the family registry."""

from bayesformula.families.family import AuxParam, Family, ResponseData
from bayesformula.families.links import LINKS, Link, get_link
from bayesformula.families.registry import FAMILIES, get_family, list_families, register_family

__all__ = [
    "AuxParam",
    "FAMILIES",
    "Family",
    "LINKS",
    "Link",
    "ResponseData",
    "get_family",
    "get_link",
    "list_families",
    "register_family",
]
