"""Evaluations: scenario files (scenario.py), answer scoring (scoring.py), metrics over probe results
(metrics.py), the written report (report.py) and the LoCoMo importer (locomo.py). See evals/README.md."""
