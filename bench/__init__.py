"""``python -m bench``: ossemu measured side by side with the servers a user would pick instead.

Modules, one concern each: ``tools`` (install or find wrk, nginx, s3rver, moto), ``procs``
(processes, ports, memory), ``peers`` (start and stop each server), ``load`` (wrk and the
Python load generator), ``workloads`` (what is measured), ``report`` (the table and RESULTS.md).
Nothing here is imported by the emulator or the tests.
"""
