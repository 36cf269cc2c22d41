"""The S3 archive of raw webhook batches: key scheme, compression, reads and writes."""
