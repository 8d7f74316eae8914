"""A real Kubernetes control plane (etcd, apiserver, controllers, KEDA) on loopback."""
