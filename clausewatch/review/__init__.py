"""Human review of drafted analyses: service layer, accounts, web app and CLI."""
