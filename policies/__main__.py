"""The appcluster policy pack, as `pulumi preview --policy-pack policies` loads it.

Constructing PolicyPack starts the analyzer and blocks, so the rules live in an importable module
(appcluster_policies, also run in-process by `python -m tools.offline check`) and this file only
builds the pack.
"""

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# The rules read the apps' facts from profiles/, beside this pack in the repository.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appcluster_policies import POLICIES

PolicyPack(name="appcluster", policies=POLICIES)
