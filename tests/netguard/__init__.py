"""The loopback-only network guard, importable as ``sitecustomize`` by the processes tests start."""
