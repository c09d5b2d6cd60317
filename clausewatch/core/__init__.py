"""The kernel every stage may import: settings, error types, exit codes, token counting and
private workspace files. It imports no other part of clausewatch."""
