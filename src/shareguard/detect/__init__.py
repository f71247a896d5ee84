"""Documents -> findings.

The Scanner and the detector registry live in :mod:`shareguard.detect.scanner`;
this package init stays empty so that importing one detector (say, the
identifier validators) does not load the NER model with the rest.
"""
