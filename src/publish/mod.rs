//! Publishing a built container: the `with_registry_auth` builder, tags, digests, existing-tag policy, retries.
