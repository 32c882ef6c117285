"""Shared code of the Messages API functions: wire models, domain logic, DynamoDB store, errors, settings."""
