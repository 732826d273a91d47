"""The hand-written ``/v2/`` HTTP edge (OCI Distribution), mounted beside Connexion."""
