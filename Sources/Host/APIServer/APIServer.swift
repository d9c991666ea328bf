// The REST API: see docs/api.md.
