//! The command line, generated from the module's definition: one subcommand per function, one
//! flag per argument, named and given as `dagger call` names and takes them.

use clap::builder::PossibleValuesParser;
use clap::{value_parser, Arg, ArgAction, Command};

use dagger_module_runtime::{cli_flag, ArgDef, FunctionDef, ModuleDef, TypeRef};

/// `--plan`: run on the recording engine even inside a session.
pub const PLAN: &str = "plan";
/// `--json`: print the result as one JSON object.
pub const JSON: &str = "json";
/// `--quiet`: no progress, plan or notes on standard error.
pub const QUIET: &str = "quiet";
/// `-o/--output PATH`: where a function that returns a File writes it (as `dagger call ...
/// export --path` does); required for those functions.
pub const OUTPUT: &str = "output";
/// `--base REF`: for a function with a `changed` argument, the main job fills it from the local
/// clone (`git diff --name-only REF...HEAD` in `--src`).
pub const BASE: &str = "base";
/// The subcommand printing a shell's completion script.
pub const COMPLETIONS: &str = "completions";
/// Its argument: the shell.
pub const SHELL: &str = "shell";
/// What a Directory argument takes when left out, in the main job: the current directory.
pub const DIRECTORY_DEFAULT: &str = ".";

/// The help heading of the main job's own flags (accepted before or after the function).
const MAIN_JOB_OPTIONS: &str = "Main-job options";

/// The binary's name, as the help and the completion scripts show it.
pub const BIN_NAME: &str = "blumeops";

/// A definition the main job cannot turn into a command line (a bug of the module, not of
/// the caller's arguments).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A function or argument takes a name the main job keeps for itself.
    #[error("{what} {name:?} of the module clashes with the main job's own {name:?}")]
    Reserved {
        /// `function` or `argument of <function>`.
        what: String,
        /// The clashing name, as on the command line.
        name: String,
    },
    /// An argument of a type that cannot be given on a command line.
    #[error("argument {flag} of function {function:?} is {kind}, which the main job cannot take")]
    Unsupported {
        /// The function, as on the command line.
        function: String,
        /// The flag.
        flag: String,
        /// The type, described.
        kind: String,
    },
}

/// The name on the command line of a snake_case name (`container_version` ->
/// `container-version`), as `dagger call` spells functions and flags.
pub fn kebab(snake: &str) -> String {
    cli_flag(snake).trim_start_matches('-').to_string()
}

const ABOUT_ENGINES: &str = "\
Engines: inside a Dagger session (`dagger run blumeops ...`, or DAGGER_SESSION_PORT and \
DAGGER_SESSION_TOKEN set) the function runs on that engine, with progress on standard error. \
With --plan, or outside a session for a function that pushes nothing, it runs on the built-in \
recording engine: nothing is built or pushed, secrets are not read, the plan is printed on \
standard error, and a digest in the result is marked as a stand-in. A function that pushes \
(publish, publish-nix) refuses to run outside a session without --plan (exit 2), so that no \
CI step goes green with a made-up digest.

Output: standard output carries only the result (a reference, a version, or with --json one \
JSON object); everything else goes to standard error.

Exit codes: 0 success; 1 a failure after the arguments were accepted (build, registry, engine); \
2 an argument error (unknown function or flag, missing argument, a value breaking its rule, \
unknown container, a function that pushes called outside a session without --plan), found \
before anything is built or pushed; 141 standard output was closed \
early (as a program stopped by SIGPIPE).";

/// The whole command line for `def`.
pub fn command(def: &ModuleDef) -> Result<Command, CommandError> {
    let mut cmd = Command::new(BIN_NAME)
        .version(env!("CARGO_PKG_VERSION"))
        .about(def.description.clone())
        .after_help(ABOUT_ENGINES)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new(PLAN)
                .long(PLAN)
                .help_heading(MAIN_JOB_OPTIONS)
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Run on the recording engine and print the plan, even inside a session"),
        )
        .arg(
            Arg::new(JSON)
                .long(JSON)
                .help_heading(MAIN_JOB_OPTIONS)
                .global(true)
                .action(ArgAction::SetTrue)
                .help(
                    "Print the result as one JSON object (references with digests, platforms, \
                     labels, engine round trips)",
                ),
        )
        .arg(
            Arg::new(QUIET)
                .long(QUIET)
                .help_heading(MAIN_JOB_OPTIONS)
                .short('q')
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Print only the result: no progress, plan or notes on standard error"),
        );
    for function in &def.object.functions {
        cmd = cmd.subcommand(function_command(function)?);
    }
    Ok(cmd.subcommand(
        Command::new(COMPLETIONS)
            .about("Print the completion script of a shell (bash, zsh, fish, ...)")
            .arg(
                Arg::new(SHELL)
                    .required(true)
                    .value_parser(value_parser!(clap_complete::Shell)),
            ),
    ))
}

fn function_command(function: &FunctionDef) -> Result<Command, CommandError> {
    let name = kebab(&function.name);
    if matches!(name.as_str(), COMPLETIONS | "help") {
        return Err(CommandError::Reserved {
            what: "function".into(),
            name,
        });
    }
    let mut cmd = Command::new(name.clone()).about(function.description.clone());
    for arg in &function.args {
        cmd = cmd.arg(flag(&name, arg)?);
    }
    if function.find_arg("changed").is_some() {
        cmd = cmd.arg(
            Arg::new(BASE)
                .long(BASE)
                .value_name("REF")
                .help_heading(MAIN_JOB_OPTIONS)
                .conflicts_with("changed")
                .help(
                    "Fill --changed from the local clone: the paths `git diff --name-only \
                     REF...HEAD` lists in --src (e.g. --base main)",
                ),
        );
    } else if function.find_arg("main_commits").is_some() {
        cmd = cmd.arg(
            Arg::new(BASE)
                .long(BASE)
                .value_name("REF")
                .help_heading(MAIN_JOB_OPTIONS)
                .conflicts_with("main_commits")
                .help(
                    "Fill --main-commits from the local clone: the commits `git rev-list REF` \
                     lists in --src (e.g. --base main)",
                ),
        );
    }
    if returns_file(function) {
        if function.args.iter().any(|a| kebab(&a.name) == OUTPUT) {
            return Err(CommandError::Reserved {
                what: format!("argument of {name}"),
                name: OUTPUT.into(),
            });
        }
        cmd = cmd.arg(
            Arg::new(OUTPUT)
                .long(OUTPUT)
                .short('o')
                .value_name("PATH")
                .required(true)
                .help_heading(MAIN_JOB_OPTIONS)
                .help("Where to write the file the function returns (as `dagger call ... export --path`)"),
        );
    }
    Ok(cmd)
}

/// Whether `function` returns a File, which the main job writes where `--output` says.
pub fn returns_file(function: &FunctionDef) -> bool {
    matches!(&function.return_type, TypeRef::Object(kind) if kind == "File")
}

/// The value name a flag's help shows: its type, in `dagger call`'s words.
fn type_name(type_ref: &TypeRef) -> Option<String> {
    Some(match type_ref {
        TypeRef::String => "string".into(),
        TypeRef::Integer => "int".into(),
        TypeRef::Float => "float".into(),
        TypeRef::Boolean => "bool".into(),
        TypeRef::List(inner) => match inner.as_ref() {
            TypeRef::List(_) | TypeRef::Void => return None,
            inner => format!("{}s", type_name(inner)?),
        },
        TypeRef::Object(kind) if matches!(kind.as_str(), "Directory" | "File" | "Secret") => {
            kind.clone()
        }
        TypeRef::Object(_) | TypeRef::Void => return None,
    })
}

/// How a value of the flag is written, after its description.
fn value_note(type_ref: &TypeRef) -> &'static str {
    match type_ref {
        TypeRef::Object(kind) if kind == "Directory" => " (a local path)",
        TypeRef::Object(kind) if kind == "File" => " (a local file)",
        TypeRef::Object(kind) if kind == "Secret" => {
            " (env:NAME, file:PATH, cmd:COMMAND, or NAME for env:NAME; the value is never read \
             here)"
        }
        TypeRef::List(_) => " (comma-separated, or the flag repeated)",
        _ => "",
    }
}

fn flag(function: &str, def: &ArgDef) -> Result<Arg, CommandError> {
    let long = kebab(&def.name);
    if matches!(long.as_str(), PLAN | JSON | QUIET | "help") {
        return Err(CommandError::Reserved {
            what: format!("argument of {function}"),
            name: long,
        });
    }
    let kind = type_name(&def.type_ref).ok_or_else(|| CommandError::Unsupported {
        function: function.to_string(),
        flag: cli_flag(&def.name),
        kind: def.type_ref.describe(),
    })?;
    let is_directory = matches!(&def.type_ref, TypeRef::Object(k) if k == "Directory");
    let mut arg = Arg::new(def.name.clone())
        .long(long)
        .value_name(kind)
        .help(format!("{}{}", def.description, value_note(&def.type_ref)))
        .required(!def.optional && def.default.is_none() && !is_directory);
    let element = match &def.type_ref {
        TypeRef::List(inner) => {
            arg = arg.action(ArgAction::Append).value_delimiter(',');
            inner.as_ref()
        }
        other => other,
    };
    arg = match element {
        TypeRef::Integer => arg.value_parser(value_parser!(i64)),
        TypeRef::Float => arg.value_parser(value_parser!(f64)),
        // `--flag` alone is true; `--flag=false` (never `--flag false`), as pflag takes it.
        TypeRef::Boolean => arg
            .value_parser(value_parser!(bool))
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true"),
        TypeRef::String if !def.allowed_values.is_empty() => {
            arg.value_parser(PossibleValuesParser::new(def.allowed_values.clone()))
        }
        _ => arg,
    };
    if is_directory {
        arg = arg.default_value(DIRECTORY_DEFAULT);
    } else if let Some(default) = &def.default {
        arg = arg.default_value(match default {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    Ok(arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modules_definition_makes_a_valid_command_line() {
        command(&crate::module::definition())
            .expect("no clash")
            .debug_assert();
    }

    #[test]
    fn names_are_kebab_case_as_dagger_call_spells_them() {
        assert_eq!(kebab("container_version"), "container-version");
        assert_eq!(kebab("src"), "src");
    }

    #[test]
    fn a_function_named_like_a_main_job_command_is_refused() {
        let def = ModuleDef::new("m", "").unwrap().function(FunctionDef::new(
            "completions",
            TypeRef::String,
            "",
        ));
        assert!(matches!(command(&def), Err(CommandError::Reserved { .. })));
        let def = ModuleDef::new("m", "").unwrap().function(
            FunctionDef::new("f", TypeRef::String, "").arg(ArgDef::optional(
                "quiet",
                TypeRef::Boolean,
                "",
            )),
        );
        assert!(matches!(command(&def), Err(CommandError::Reserved { .. })));
    }
}
