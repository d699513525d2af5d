"""Database: the single entry point every instance connects to, PostgreSQL or MySQL.

Variants (one module each, loaded only by the stack that picks it): in_cluster (a StatefulSet on a
PVC behind a ClusterIP Service), rds (an RDS instance behind an RDS Proxy, the entry point),
external (an existing server, proxy or pooler, from a DSN URL in a config secret), container (a
Docker container on a named volume). Each returns a DatabaseEndpoint (contract.py); the Database
component (component.py) exposes it.
"""
