"""The shop's knowledge: loading, indexing, retrieval and caching."""
