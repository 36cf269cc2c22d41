"""The maintenance task: partitions ahead, retention, the default partition, queue gauges."""
