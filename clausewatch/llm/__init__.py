"""One small LLM interface with backends: openai, openai-compatible, local (xllamacpp), fake."""
