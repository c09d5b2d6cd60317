"""Pydantic models shared by every stage: documents, clauses, changes, analyses, reviews, evals."""
