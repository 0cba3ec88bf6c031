"""Linking: a citation and an institution become ranked targets (full text, open, catalogue,
delivery), from the knowledge base, the registry and the index."""
