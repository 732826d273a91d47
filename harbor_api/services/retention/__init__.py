"""Tag retention (Harbor's ``/retentions``): per-project policies run on the job service."""
