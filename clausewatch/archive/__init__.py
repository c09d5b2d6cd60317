"""Sources and archive: declarations, fetching, normalisation, snapshots, dated versions."""
