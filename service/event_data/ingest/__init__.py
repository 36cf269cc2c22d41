"""The receiving side: webhook credentials, OAuth tokens, and archiving raw batches. No SQL."""
