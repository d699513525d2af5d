"""The appcluster policy pack, as `pulumi preview --policy-pack policies` loads it.

Constructing PolicyPack starts the analyzer and blocks, so the rules live in an importable module
(appcluster_policies, also run in-process by `python -m tools.offline check`) and this file only
builds the pack.
"""
from pulumi_policy import PolicyPack

from appcluster_policies import POLICIES

PolicyPack(name="appcluster", policies=POLICIES)
