"""The OCI registry core: digests, names, the storage layout and drivers, manifests.

Plain Python over the storage driver interface: no HTTP, no ORM.
"""
