"""The AWS side of the managed-service modes (pulumi_aws): RDS behind RDS Proxy, ElastiCache, EFS,
AWS Backup, and the conventions they share (network, names, security groups)."""
