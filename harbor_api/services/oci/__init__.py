"""Registry metadata services for the ``/v2`` edge: repositories, blob links, upload
sessions, artifacts, tags and referrers. Each function works inside the caller's short
transaction; none of them ever runs while a body streams."""
