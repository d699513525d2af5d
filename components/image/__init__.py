"""AppImage: build the app's image from a Dockerfile in the repo and push it to a registry; the
cluster then runs it by digest, so every instance runs exactly the bytes that were built.

The build is the component's (pulumi_docker); the registry is its variant, one file each: ecr.py
(a repository this stack creates and a short-lived token from ECR), registry.py (an existing
registry, with the password from a config secret). Credentials are Pulumi secrets throughout.
"""
