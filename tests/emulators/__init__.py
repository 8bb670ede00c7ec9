"""Loopback emulations of platform APIs that end-to-end tests run the real client libraries against."""
