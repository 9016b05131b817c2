"""Save a fitted model and its draws to one netCDF file, and load both back.

The file is the fit's tree (posterior, sample_stats, ...; one netCDF group each, as ArviZ
writes them) plus one extra group, ``bayesformula``, holding

* the model specification as JSON (formula, family, link, user priors, options, versions),
* the encodings the formula learned from the data (category levels, contrasts, the state of
  stateful transforms such as ``scale()``'s mean and sd, the levels of ``mo()`` terms and the
  centre and boundary of ``hsgp()`` terms, the design's column names and a hash of the design
  matrix), and
* the data columns the formula uses, with their pandas dtypes,
* the save format number (the group's ``format`` attribute, read before anything else), and
* SHA-256 checksums of every stored array and attribute (the ``sha256`` attribute).

Loading reads the format number first (a file from a newer bayesformula is refused with a
request to upgrade), checks the checksums (a damaged file is refused, naming what is damaged),
checks every stored value against the layout this module writes, rebuilds the model from the
stored data, checks that the rebuilt encodings equal the stored ones (so predictions on new data
are exactly those of the original model), and returns ``(model, idata)``. Nothing in a file is
run as code: the formula goes through the same checks as a formula typed by a user (no calls
outside the allowed transforms), family, link and distribution names are looked up in the
registries, numbers are numbers, dtypes are names pandas knows, and no value is unpickled.
Every problem with a file is a `FileFormatError` that names the file. Files written by
bayesformula 0.1 (ArviZ 0.23's ``InferenceData``; no checksums) have the same groups and load
the same way.
"""

from bayesformula.io.checksums import _stamp as _stamp
from bayesformula.io.files import load, save
from bayesformula.io.stored import FORMAT as FORMAT
from bayesformula.io.stored import GROUP as GROUP
from bayesformula.io.stored import encodings as encodings
from bayesformula.io.stored import model_encodings as model_encodings

__all__ = ["load", "save"]
