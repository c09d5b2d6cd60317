"""The regulation catalogue the project ships (written by us) and full-text import."""
