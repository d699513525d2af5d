"""What every target shares. Imports pulumi and pulumi_random only: no Kubernetes, AWS or Docker SDK."""
