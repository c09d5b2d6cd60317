"""Prompt templates (files with front matter under ``prompts/templates``) and their loader."""

from clausewatch.prompts.loader import (
    PromptError,
    PromptTemplate,
    RenderedPrompt,
    list_prompts,
    load_prompt,
)

ANALYSIS_PROMPT_ID = "provision_analysis"  # the drafting prompt (templates/provision_analysis.j2)

__all__ = [
    "ANALYSIS_PROMPT_ID",
    "PromptError",
    "PromptTemplate",
    "RenderedPrompt",
    "list_prompts",
    "load_prompt",
]
