"""The Events API's query language: parameters, filters and cursors. No SQL, no HTTP."""
