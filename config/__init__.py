"""Configuration: settings from BRIDGE_* variables, and the routing file's schema, loader and example."""
