"""The tests of cgalib: ``tests/<pkg>/test_<mod>.py`` tests ``cgalib/<pkg>/<mod>.py``.

A package, so that test modules of the same name in two folders (``codecs/test_center.py``,
``heads/test_center.py``) import under their folder's name.
"""
