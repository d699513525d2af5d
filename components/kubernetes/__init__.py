"""Components that declare Kubernetes objects (pulumi_kubernetes). A mode backed by AWS reaches
into components/aws only when that mode is chosen, so Kubernetes-only stacks never load pulumi_aws."""
