"""Core: persons, identities, memberships, consents, holds, restrictions, audit, registry."""
