"""``mediator bench``: what the mediator costs per turn next to a bare assistant.

One command measures, in the same run, the graph's own overhead with an instant
model, cost growth over a long conversation, model calls and tokens on the
sharded conversations, throughput and memory under concurrency on Postgres,
and the embedded model's speed; then writes BENCHMARKS.md with the targets.
"""
