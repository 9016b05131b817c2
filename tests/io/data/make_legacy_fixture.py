"""Wrote sleepstudy-v0.1.nc with bayesformula 0.1.0 on Python 3.11 (PyMC 5.28, ArviZ 0.23).

Kept for the record: run from the repository root with a 0.1 install to write the file again.
"""

import json

import numpy as np

import bayesformula as bf

data = bf.load_data("sleepstudy")
data = data[data["Subject"].isin([308, 309, 310, 330, 331, 332])].copy()
data["Subject"] = data["Subject"].astype(str)
data["phase"] = np.where(data["Days"] < 5, "early", "late")
model = bf.Model("Reaction ~ scale(Days) + phase + (1|Subject)", data)
idata = model.fit(draws=60, tune=200, chains=2, random_seed=11, progressbar=False)
bf.save(model, idata, "tests/io/data/sleepstudy-v0.1.nc")
new = data.iloc[[0, 7, 15, 30, 44]].copy()
new["Days"] = [0.5, 3.0, 9.5, 12.0, 2.0]
pred = model.predict(idata, data=new, inplace=False)
mu = pred.posterior["mu"].mean(("chain", "draw")).values
new.to_csv("tests/io/data/sleepstudy-v0.1-new.csv", index=True)
json.dump(
    {"mu_mean": [float(v) for v in mu], "versions": {"bayesformula": bf.__version__}},
    open("tests/io/data/sleepstudy-v0.1-expected.json", "w"),
    indent=1,
)
print(mu, list(idata.groups()))
