"""appcluster's policies. `POLICIES` is what the pack serves and what `tools.offline check` runs."""

from appcluster_policies.aws import AWS_POLICIES
from appcluster_policies.cluster import CLUSTER_POLICIES
from appcluster_policies.endpoints import ENDPOINT_POLICIES
from appcluster_policies.security import SECURITY_POLICIES

POLICIES = CLUSTER_POLICIES + ENDPOINT_POLICIES + SECURITY_POLICIES + AWS_POLICIES

__all__ = ["POLICIES"]
