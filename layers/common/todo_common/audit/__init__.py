"""The audit trail: events, publishing to SQS with a MongoDB outbox, the relay, the consumer."""
