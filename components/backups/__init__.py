"""Backups: scheduled ones, and one taken before the primary moves to a new version.

Variants, one file each, and a stack composes the ones it needs (an in-cluster database on EFS has
both): dump.py (a CronJob and, per upgrade, a Job that dump an in-cluster database into the shared
storage or an S3 bucket), aws.py (an AWS Backup plan for the RDS instance and the EFS file system
and, per upgrade, an RDS snapshot named after the target version). An external database is its
owner's to back up.
"""
