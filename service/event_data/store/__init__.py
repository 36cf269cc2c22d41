"""The store: every SQL statement and table definition; nothing else imports the driver."""
