"""microgpt."""
