"""Everything that is not the product: the local broker, `make run`'s supervisor, the
local autoscaler, the load generator, benchmarks, the soak and the local Kubernetes
control plane. Never in the image.

Tools may import webapp, worker and streams; nothing in those imports tools."""
