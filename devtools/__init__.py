"""Local development tools: the API Gateway emulator behind `make dev`, and its worker."""
