"""Publication: static site, JSON dataset, Atom feeds, subscriptions, alerts and digests.

Only drafts whose status is ``approved`` are ever read into any output
(:func:`publication.catalog.load_catalog` is the single place that reads drafts).
"""
