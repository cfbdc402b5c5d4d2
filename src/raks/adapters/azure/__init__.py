"""Azure Resource Manager through the real azure-mgmt SDKs (imported lazily)."""
