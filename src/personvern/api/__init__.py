"""REST API for integrators: rights requests over OpenGDPR-style JSON, staff tokens."""
