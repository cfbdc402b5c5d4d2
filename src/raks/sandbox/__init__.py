"""The local Azure/Kubernetes/Anyscale emulator (see DESIGN.md, "The sandbox")."""
