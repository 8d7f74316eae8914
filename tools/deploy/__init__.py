"""The deployment as built from k8s/ and kustomize/, and the upstream artefacts it is
checked against."""
