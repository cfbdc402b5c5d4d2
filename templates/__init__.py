"""raks' templates (Helm values, manifests, the starter raks.yaml): package data of raks.templates.

They live at the top of the repository, where users look for what they may copy; pyproject.toml
maps this folder into the package, so wheels and editable installs ship it as raks/templates."""
