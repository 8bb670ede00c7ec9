"""Storage: the SQLAlchemy schema, its migrations and the store the relay and worker use."""
