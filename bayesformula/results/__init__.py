"""Results: predictions from draws (summaries, log-likelihood, R2 and LOO build on these)."""

from bayesformula.results.predict import Predictor, compile_predictor, predict

__all__ = ["Predictor", "compile_predictor", "predict"]
