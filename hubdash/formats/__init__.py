"""One date and time format per language (FORMAT_MODULE_PATH), for every page, the audit log included.

Django's own English formats mix styles ("Nov. 29, 2026, 4:03 a.m."); a support team compares times
across pages, so each language gets one 24-hour format with seconds. What is not set here (number
separators, input formats) stays Django's for that locale.
"""
