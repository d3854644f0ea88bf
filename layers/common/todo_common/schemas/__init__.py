"""What goes over the wire: request and response bodies (camelCase JSON, unknown fields refused)."""
