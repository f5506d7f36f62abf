//! Name rules: Rust's snake_case in definitions, Dagger's camelCase and PascalCase on the wire.
//!
//! The engine normalises every function and argument name with `strcase.ToLowerCamel` and keeps
//! the name it was given as the "original name", which it sends back in `currentFunctionCall`
//! (upstream `core/typedef.go`, `NewFunction` / `WithArg`, and `core/modfunc.go`,
//! `setCallInputs`). Registering the camelCase form makes both names the same, so the CLI shows
//! `--container-name` and the call comes back as `containerName`.

/// Why a name is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("the {what} name is empty")]
    Empty {
        /// What carries the name ("function", "argument", "module").
        what: &'static str,
    },
    /// The name is not lowercase snake_case.
    #[error(
        "the {what} name {name:?} is not snake_case: it must start with a lowercase letter and \
         hold only lowercase letters, digits and single underscores between words"
    )]
    NotSnakeCase {
        /// What carries the name.
        what: &'static str,
        /// The rejected name.
        name: String,
    },
    /// The engine would rename the camelCase form (`a_b_c` -> `aBC`, which the engine turns
    /// into `aBc`; `x2y` -> the engine's `x2Y`), so the CLI flag would not match the name.
    #[error(
        "the {what} name {name:?} is registered as {camel:?}, which the engine would rename to \
         {engine:?}; use words of two letters or more, and an underscore after digits"
    )]
    Renamed {
        /// What carries the name.
        what: &'static str,
        /// The rejected name.
        name: String,
        /// Its camelCase form.
        camel: String,
        /// The engine's normalisation of that form.
        engine: String,
    },
    /// The module name is not usable to derive the main object's name.
    #[error(
        "the module name {name:?} must start with a letter and hold only letters, digits, '-' \
         and '_'"
    )]
    BadModuleName {
        /// The rejected name.
        name: String,
    },
}

/// Checks that `name` is lowercase snake_case (`container_name`, `publish_nix`, `sha256`).
pub fn check_snake_case(what: &'static str, name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty { what });
    }
    let bad = || NameError::NotSnakeCase {
        what,
        name: name.to_string(),
    };
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.ends_with('_') {
        return Err(bad());
    }
    if name.contains("__") {
        return Err(bad());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(bad());
    }
    let camel = camel_case(name);
    let engine = engine_lower_camel(&camel);
    if engine != camel {
        return Err(NameError::Renamed {
            what,
            name: name.to_string(),
            camel,
            engine,
        });
    }
    Ok(())
}

/// The camelCase form of a snake_case name: `container_name` -> `containerName`.
///
/// This is the one place where the conversion happens; the engine shows the result to users in
/// kebab-case (`--container-name`).
///
/// ```
/// assert_eq!(dagger_naming::camel_case("container_name"), "containerName");
/// ```
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper_next = false;
    for c in snake.chars() {
        if c == '_' || c == '-' {
            upper_next = !out.is_empty();
            continue;
        }
        if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The engine's own normalisation of function and argument names, `strcase.ToLowerCamel`
/// (upstream `github.com/iancoleman/strcase` `camel.go`, called by `core/typedef.go`): letters
/// after a separator (`_`, `-`, `.`, space) or a digit are upper-cased, a capital right after
/// another capital is lower-cased, other characters are dropped.
///
/// ```
/// use dagger_naming::engine_lower_camel;
/// assert_eq!(engine_lower_camel("container_name"), "containerName");
/// assert_eq!(engine_lower_camel("sha256sum"), "sha256Sum");
/// ```
pub fn engine_lower_camel(name: &str) -> String {
    let name = name.trim();
    let mut out = String::with_capacity(name.len());
    let mut cap_next = false;
    let mut prev_is_cap = false;
    for (i, c) in name.chars().enumerate() {
        let is_cap = c.is_ascii_uppercase();
        let is_low = c.is_ascii_lowercase();
        let mut c = c;
        if cap_next {
            c = c.to_ascii_uppercase();
        } else if i == 0 || (prev_is_cap && is_cap) {
            c = c.to_ascii_lowercase();
        }
        prev_is_cap = is_cap;
        if is_cap || is_low {
            out.push(c);
            cap_next = false;
        } else if c.is_ascii_digit() {
            out.push(c);
            cap_next = true;
        } else {
            cap_next = matches!(c, '_' | ' ' | '-' | '.');
        }
    }
    out
}

/// The kebab-case flag the Dagger CLI shows for a snake_case argument:
/// `container_name` -> `--container-name`.
pub fn cli_flag(snake: &str) -> String {
    format!("--{}", snake.replace('_', "-"))
}

/// The PascalCase name of a module's main object: `blumeops` -> `Blumeops`,
/// `my-module` -> `MyModule`.
///
/// ```
/// assert_eq!(dagger_naming::pascal_case("blumeops").unwrap(), "Blumeops");
/// ```
pub fn pascal_case(module_name: &str) -> Result<String, NameError> {
    let bad = || NameError::BadModuleName {
        name: module_name.to_string(),
    };
    if module_name.is_empty() {
        return Err(NameError::Empty { what: "module" });
    }
    if !module_name.starts_with(|c: char| c.is_ascii_alphabetic())
        || !module_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad());
    }
    let mut out = String::with_capacity(module_name.len());
    let mut upper_next = true;
    for c in module_name.chars() {
        if c == '-' || c == '_' {
            upper_next = true;
            continue;
        }
        if upper_next {
            out.push(c.to_ascii_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_to_camel() {
        assert_eq!(camel_case("container_name"), "containerName");
        assert_eq!(camel_case("publish_nix"), "publishNix");
        assert_eq!(camel_case("registry_password"), "registryPassword");
        assert_eq!(camel_case("src"), "src");
        assert_eq!(camel_case("sha_256"), "sha256");
        assert_eq!(camel_case("a_b_c"), "aBC");
        assert_eq!(camel_case("x2_y"), "x2Y");
    }

    #[test]
    fn camel_case_is_stable_under_the_engines_normalisation() {
        // strcase.ToLowerCamel leaves a lowerCamel name unchanged: converting twice is a no-op.
        for name in ["containerName", "publish", "commitSha"] {
            assert_eq!(camel_case(name), name);
        }
    }

    #[test]
    fn the_engines_normalisation() {
        assert_eq!(engine_lower_camel("containerName"), "containerName");
        assert_eq!(engine_lower_camel("ContainerName"), "containerName");
        assert_eq!(engine_lower_camel("container_name"), "containerName");
        assert_eq!(engine_lower_camel("aBC"), "aBc");
        assert_eq!(engine_lower_camel("ID"), "id");
        assert_eq!(engine_lower_camel("x2y"), "x2Y");
        assert_eq!(engine_lower_camel(" publish-nix "), "publishNix");
    }

    #[test]
    fn names_the_engine_would_rename_are_rejected() {
        for bad in ["a_b_c", "x2y", "sha256sum"] {
            let err = check_snake_case("argument", bad).unwrap_err();
            assert!(matches!(err, NameError::Renamed { .. }), "{bad}: {err}");
        }
        for good in ["sha_256", "sha256", "ab_cd", "publish_nix", "x2_y"] {
            assert_eq!(check_snake_case("argument", good), Ok(()), "{good}");
        }
    }

    #[test]
    fn flags_are_kebab_case() {
        assert_eq!(cli_flag("container_name"), "--container-name");
        assert_eq!(cli_flag("src"), "--src");
    }

    #[test]
    fn module_names_become_pascal_case() {
        assert_eq!(pascal_case("blumeops").unwrap(), "Blumeops");
        assert_eq!(pascal_case("my-module").unwrap(), "MyModule");
        assert_eq!(pascal_case("my_module2").unwrap(), "MyModule2");
        assert!(matches!(
            pascal_case(""),
            Err(NameError::Empty { what: "module" })
        ));
        assert!(matches!(
            pascal_case("9lives"),
            Err(NameError::BadModuleName { .. })
        ));
        assert!(matches!(
            pascal_case("a b"),
            Err(NameError::BadModuleName { .. })
        ));
    }

    #[test]
    fn snake_case_rule() {
        for good in ["src", "container_name", "sha256", "ab1_cd2"] {
            assert_eq!(check_snake_case("argument", good), Ok(()), "{good}");
        }
        assert_eq!(
            check_snake_case("argument", ""),
            Err(NameError::Empty { what: "argument" })
        );
        for bad in [
            "Container",
            "containerName",
            "_x",
            "x_",
            "a__b",
            "1a",
            "a-b",
            "é",
        ] {
            let err = check_snake_case("function", bad).unwrap_err();
            assert!(err.to_string().contains("snake_case"), "{bad}: {err}");
        }
    }
}

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
