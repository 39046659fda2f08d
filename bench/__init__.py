"""The benchmark suite: realistic data in MariaDB, the deployed process layout, wrk as load generator.

Run with ``make bench`` (or ``.venv/bin/python -m bench --help``); see bench/README.md.
"""
