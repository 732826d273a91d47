"""Replication: policies (what moves where, when) and their executions on the job service."""
