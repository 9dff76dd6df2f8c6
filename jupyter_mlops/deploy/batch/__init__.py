"""Serving as data: a registered model version scores a key set (a Parquet or CSV file, or a
SQL query) in bounded chunks into a staging table, swapped in for the live table atomically.

``source`` reads the chunks, ``validation`` checks them against the version's signature,
``scoring`` predicts, ``database`` opens the target, ``table_swap`` builds, swaps, restores
and summarises the tables, ``runner`` ties them into one scoring run.
"""
