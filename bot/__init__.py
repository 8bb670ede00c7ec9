"""The core: conversation model, relay, storage, delivery worker, HTTP server, CLI and wiring."""
