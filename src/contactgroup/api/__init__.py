"""The HTTP API: thin FastAPI adapters over the services; errors as RFC 9457 problem+json."""
