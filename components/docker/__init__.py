"""Components for the local Docker target (pulumi_docker), and the app image build."""
