"""Consolidation: hot short-term facts -> QA data -> LoRA adapter -> recall gate -> published version."""
