//! blumeops's deployment defaults, in one place: the registry, its robot account, the image
//! namespace, the forge mirror and the vendor label. The generic crates carry none of them.

use dagger_pipeline::ForgeConfig;

/// The registry images are published to (a zot registry).
pub const REGISTRY: &str = "registry.ops.eblu.me";

/// The CI robot account of that registry: may create tags, never overwrite them.
pub const REGISTRY_USERNAME: &str = "zot-ci";

/// The repository namespace: images are `<registry>/blumeops/<container>`.
pub const NAMESPACE: &str = "blumeops";

/// The forge mirror upstream sources are cloned from: `<base>/<name>.git`.
pub const FORGE_BASE: &str = "https://forge.ops.eblu.me/mirrors";

/// `org.opencontainers.image.vendor` of every image.
pub const VENDOR: &str = "blumeops";

/// The forge mirror as a [`ForgeConfig`].
///
/// ```
/// assert_eq!(
///     blumeops::defaults::forge().repository_url("navidrome"),
///     "https://forge.ops.eblu.me/mirrors/navidrome.git"
/// );
/// ```
pub fn forge() -> ForgeConfig {
    ForgeConfig::new(FORGE_BASE).expect("FORGE_BASE is an https:// URL with a host")
}

/// The flake `flake-lock` and `flake-update` work on by default (the `flake-path` default).
pub const FLAKE_PATH: &str = "nixos/ringtail";

/// The inputs `flake-update` leaves alone by default (the `skip-inputs` default): the
/// services' nixpkgs is pinned on purpose and moved by hand.
pub const FLAKE_SKIP_INPUTS: &str = "nixpkgs-services";

/// The file listing each deployed service and its version (`services: [{name,
/// current-version}]`), at the repository's root: `container-version-check`'s rule 4.
pub const SERVICE_VERSIONS_FILE: &str = "service-versions.yaml";

/// Containers whose service in [`SERVICE_VERSIONS_FILE`] has another name: (container, service).
pub const SERVICE_NAMES: &[(&str, &str)] = &[("quartz", "docs"), ("kiwix-serve", "kiwix")];

/// Containers built from a nixpkgs package taken unmodified, whose version is that package's:
/// (container, nixpkgs attribute). Their `default.nix` needs no `version = "...";`.
pub const NIXPKGS_PACKAGES: &[(&str, &str)] = &[("authentik", "authentik")];

/// Utility images `container-version-check` skips: they track no upstream release.
pub const VERSION_CHECK_SKIP: &[&str] = &["kubectl", "nettest"];

/// This deployment's [`VersionRules`](crate::pipeline::VersionRules).
pub fn version_rules() -> crate::pipeline::VersionRules {
    crate::pipeline::VersionRules {
        service_versions_file: SERVICE_VERSIONS_FILE.to_string(),
        service_names: pairs(SERVICE_NAMES),
        nixpkgs_packages: pairs(NIXPKGS_PACKAGES),
        skip: VERSION_CHECK_SKIP.iter().map(|s| s.to_string()).collect(),
    }
}

fn pairs(items: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
