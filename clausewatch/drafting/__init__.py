"""Drafting: a changed clause + retrieval context -> a validated, grounded ProvisionAnalysis.

Entry points: ``drafting.engine.draft_analysis`` (no database), ``drafting.service``
(``draft_change``, ``process_redrafts``).
"""
