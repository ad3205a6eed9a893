"""Provider adapters: each turns one backend's API into `Completion`s and vectors, raising `ProviderError`."""
