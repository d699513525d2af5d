"""appcluster's building blocks, by target: `kubernetes/`, `aws/` and `docker/` each import their own
provider SDK; `shared/` is what they have in common (connection strings, server images, nginx
texts, generated secrets) and imports none of them, so a platform loads only the SDKs it deploys
with (tests/test_structure.py holds the import graph to that)."""
