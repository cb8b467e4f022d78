"""The HTTP and WebSocket transports, and the pages, organised by who uses them."""
