"""Prompt templates (files with front matter under ``prompts/templates``) and their loader."""

from clausewatch.prompts.loader import (
    PromptError,
    PromptTemplate,
    RenderedPrompt,
    list_prompts,
    load_prompt,
)

__all__ = ["PromptError", "PromptTemplate", "RenderedPrompt", "list_prompts", "load_prompt"]
