"""The write side of search: knowledge pages -> passages with vectors, kept in sync with the tree.

``chunking``/``page_chunks`` split pages, ``writer`` writes passages, ``state`` says what is
stale, ``events`` announces changes, ``tasks`` and ``handlers`` keep the index in sync with
publishing. See docs/architecture.md for the import rules.
"""
