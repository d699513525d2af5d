"""Run a Pulumi Python program with no cloud, no cluster and no CLI: under Pulumi's mocks."""
