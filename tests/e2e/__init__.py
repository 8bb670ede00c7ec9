"""End-to-end tests: real platform client libraries against loopback emulators."""
