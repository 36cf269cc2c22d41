"""The fault suite (``make chaos``): the real service as a process, a throwaway PostgreSQL
cluster, a moto server and a sender that behaves like SparkPost, under the faults product.md
"Reliability" names. Every scenario must end with exactly the events that were sent."""
