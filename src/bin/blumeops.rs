//! The main job: call a function of the `blumeops` module from a shell, as `dagger call` does.
//!
//! ```text
//! blumeops publish --container-name navidrome --version v0.61.1 --commit-sha c86b5d7 \
//!     --registry-password env:ZOT_CI_API_KEY
//! ```
//!
//! Inside a Dagger session (`dagger run blumeops ...`, or `DAGGER_SESSION_PORT` and
//! `DAGGER_SESSION_TOKEN` set) it runs for real on that engine. Anywhere else, or with `--plan`,
//! it runs on the built-in recording engine (the mock engine, in recording mode): nothing is
//! built or pushed, and it prints the plan a person would want before a real push.
//!
//! Flags are the module's, in kebab-case (`blumeops help` lists them). A Directory argument
//! takes a local path (`--src .`, the default for `src`); a Secret takes `env:NAME` (or
//! `file:PATH`); a list takes repeated flags or commas.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use blumeops::module::Blumeops;
use dagger_engine::registry::RegistryHost;
use dagger_engine::{gql, EngineClient};
use dagger_mock_engine::{AccountRights, MockEngine};
use dagger_module_runtime::{
    cli_flag, Args, CallContext, FunctionDef, FunctionResult, Module, ModuleDef, TypeRef,
};
use serde_json::{json, Value};

/// What the plan mode stores as any secret's value: the real one is never read there.
const PLAN_PLACEHOLDER: &str = "plan-mode-placeholder";
/// Files larger than this are not loaded into the recording engine (the plan needs Dockerfiles
/// and the like, not build outputs).
const MAX_PLAN_FILE: u64 = 1 << 20;

#[derive(Debug)]
struct Cli {
    function: String,
    flags: Vec<(String, String)>,
    plan: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let module = Blumeops::new();
    let def = module.definition();
    let cli = match parse_cli(std::env::args().skip(1)) {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("error: {message}\n\n{}", usage(&def));
            return ExitCode::from(2);
        }
    };
    if cli.function == "help" {
        println!("{}", usage(&def));
        return ExitCode::SUCCESS;
    }
    let Some(function) = def
        .object
        .functions
        .iter()
        .find(|f| kebab(&f.name) == cli.function)
    else {
        eprintln!(
            "error: unknown function {:?}\n\n{}",
            cli.function,
            usage(&def)
        );
        return ExitCode::from(2);
    };
    let session = match EngineClient::from_session_env() {
        Ok(session) => session,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    match (session, cli.plan) {
        (Some(client), false) => run_for_real(&module, function, &cli, client).await,
        (_, _) => run_plan(module, function, &cli).await,
    }
}

fn kebab(snake: &str) -> String {
    snake.replace('_', "-")
}

/// `FUNCTION [--flag value | --flag=value]... [--plan]`.
fn parse_cli(args: impl Iterator<Item = String>) -> Result<Cli, String> {
    let mut args = args.peekable();
    let function = args
        .next()
        .ok_or_else(|| "a function name is needed (for example publish)".to_string())?;
    let mut flags = Vec::new();
    let mut plan = false;
    while let Some(arg) = args.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!("{arg:?} is not a flag; flags start with --"));
        };
        if flag == "plan" {
            plan = true;
            continue;
        }
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None => {
                let value = args
                    .next()
                    .ok_or_else(|| format!("--{flag} needs a value"))?;
                (flag.to_string(), value)
            }
        };
        flags.push((name, value));
    }
    Ok(Cli {
        function,
        flags,
        plan,
    })
}

fn usage(def: &ModuleDef) -> String {
    let mut out = String::from(
        "usage: blumeops FUNCTION [--flag value]... [--plan]\n\n\
         Runs on the Dagger engine of the current session, or (with --plan, or outside a\n\
         session) on the recording engine, printing the plan.\n\nfunctions:\n",
    );
    for f in &def.object.functions {
        out.push_str(&format!("  {}: {}\n", kebab(&f.name), f.description));
        for a in &f.args {
            let note = match (&a.default, a.optional) {
                (Some(d), _) => format!(" (default {d})"),
                (None, true) => " (optional)".to_string(),
                (None, false) => String::new(),
            };
            let kind = match &a.type_ref {
                TypeRef::Object(k) if k == "Directory" => "a local directory".to_string(),
                TypeRef::Object(k) if k == "File" => "a local file".to_string(),
                TypeRef::Object(k) if k == "Secret" => "env:NAME or file:PATH".to_string(),
                TypeRef::List(_) => "comma-separated, or the flag repeated".to_string(),
                other => other.describe(),
            };
            out.push_str(&format!("      {} <{kind}>{note}\n", cli_flag(&a.name)));
        }
    }
    out
}

/// The arguments as the engine would send them (`inputArgs`: names, JSON values), with object
/// arguments turned into IDs on `client`.
async fn input_args(
    function: &FunctionDef,
    cli: &Cli,
    client: &EngineClient,
) -> Result<Vec<(String, Value)>, String> {
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    for (flag, raw) in &cli.flags {
        let def = function
            .args
            .iter()
            .find(|a| kebab(&a.name) == *flag)
            .ok_or_else(|| format!("{} has no flag --{flag}", kebab(&function.name)))?;
        let value = match &def.type_ref {
            TypeRef::String => json!(raw),
            TypeRef::Integer => json!(raw
                .parse::<i64>()
                .map_err(|_| format!("--{flag} takes a whole number, got {raw:?}"))?),
            TypeRef::Boolean => json!(raw
                .parse::<bool>()
                .map_err(|_| format!("--{flag} takes true or false, got {raw:?}"))?),
            TypeRef::List(_) => {
                let mut items = match values.remove(&def.name) {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                items.extend(
                    raw.split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| json!(s.trim())),
                );
                Value::Array(items)
            }
            TypeRef::Object(kind) => json!(object_id(client, kind, raw).await?),
            TypeRef::Void => return Err(format!("--{flag} cannot take a value")),
        };
        values.insert(def.name.clone(), value);
    }
    // `src` defaults to the current directory, as `dagger call` takes the module's own.
    for def in &function.args {
        if matches!(&def.type_ref, TypeRef::Object(k) if k == "Directory")
            && !values.contains_key(&def.name)
        {
            values.insert(
                def.name.clone(),
                json!(object_id(client, "Directory", ".").await?),
            );
        }
    }
    Ok(values
        .into_iter()
        .map(|(name, value)| (name, Value::String(value.to_string())))
        .collect())
}

/// The ID of a Directory (a local path) or Secret (`env:NAME`, `file:PATH`) argument.
async fn object_id(client: &EngineClient, kind: &str, raw: &str) -> Result<String, String> {
    let field = match kind {
        "Directory" => {
            let path = absolute(raw)?;
            format!(
                "host{{directory(path:{}){{id}}}}",
                gql::string(&path.to_string_lossy())
            )
        }
        "File" => {
            let path = absolute(raw)?;
            let (dir, name) = match (path.parent(), path.file_name()) {
                (Some(dir), Some(name)) => (dir.to_path_buf(), name.to_string_lossy().into_owned()),
                _ => return Err(format!("{raw:?} is not a file path")),
            };
            format!(
                "host{{directory(path:{}){{file(path:{}){{id}}}}}}",
                gql::string(&dir.to_string_lossy()),
                gql::string(&name)
            )
        }
        // As the Dagger CLI makes a secret of a flag (cmd/dagger/flags.go): the engine maps
        // NAME, env:NAME, file:PATH, cmd:... to its provider URIs (core/schema/address.go).
        "Secret" => format!("address(value:{}){{secret{{id}}}}", gql::string(raw)),
        other => return Err(format!("arguments of type {other} cannot be given here")),
    };
    let data = client
        .query(&format!("query{{{field}}}"))
        .await
        .map_err(|e| e.to_string())?;
    let mut value = &data;
    while let Value::Object(map) = value {
        match map.values().next() {
            Some(inner) if map.len() == 1 => value = inner,
            _ => break,
        }
    }
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the engine gave no ID for {kind} {raw:?}"))
}

fn absolute(raw: &str) -> Result<PathBuf, String> {
    std::fs::canonicalize(raw).map_err(|e| format!("directory {raw:?}: {e}"))
}

async fn call(
    module: &Blumeops,
    function: &FunctionDef,
    client: &EngineClient,
    input: Vec<(String, Value)>,
) -> Result<FunctionResult, (String, u8)> {
    let args = Args::decode(function, &input).map_err(|e| (e.to_string(), 2))?;
    let ctx = CallContext::new(client.clone(), json!({}));
    module
        .call(&ctx, &function.name, &args)
        .await
        .map_err(|e| (e.to_string(), e.exit_code()))
}

async fn result_text(client: &EngineClient, result: FunctionResult) -> Result<String, String> {
    Ok(match result {
        FunctionResult::Value(Value::String(s)) => s,
        FunctionResult::Value(v) => v.to_string(),
        FunctionResult::Object(id) => id.0,
        FunctionResult::Container(c) => {
            let _ = client;
            c.id().await.map_err(|e| e.to_string())?.0
        }
        FunctionResult::Void => String::new(),
    })
}

async fn run_for_real(
    module: &Blumeops,
    function: &FunctionDef,
    cli: &Cli,
    client: EngineClient,
) -> ExitCode {
    let input = match input_args(function, cli, &client).await {
        Ok(input) => input,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    match call(module, function, &client, input).await {
        Ok(result) => match result_text(&client, result).await {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        },
        Err((message, code)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// Loads a local directory into the recording engine (text files up to 1 MiB; `target`,
/// `.git` and `node_modules` left out), so the module can read Dockerfiles from it.
fn load_directory(engine: &MockEngine, root: &Path) -> Result<(), String> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if matches!(name.to_str(), Some("target" | ".git" | "node_modules")) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() && meta.len() <= MAX_PLAN_FILE {
                if let (Ok(text), Ok(rel)) =
                    (std::fs::read_to_string(&path), path.strip_prefix(root))
                {
                    files.push((rel.to_string_lossy().into_owned(), text));
                }
            }
        }
    }
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    engine.add_host_directory(&root.to_string_lossy(), &borrowed);
    Ok(())
}

/// Loads one local file into the recording engine, as the only file of its directory (a
/// binary archive is represented by its size: the plan needs its name, not its bytes).
fn load_file(engine: &MockEngine, path: &Path) -> Result<(), String> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(format!("{} is not a file path", path.display()));
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let contents = std::fs::read_to_string(path)
        .unwrap_or_else(|_| format!("({} bytes, not text)", meta.len()));
    engine.add_host_directory(
        &dir.to_string_lossy(),
        &[(name.to_string_lossy().as_ref(), contents.as_str())],
    );
    Ok(())
}

/// The recording engine, set up for the call: local directories loaded, every secret a
/// placeholder that is never the real value, and the target registry accepting the given
/// user with it.
fn recording_engine(function: &FunctionDef, cli: &Cli) -> Result<MockEngine, String> {
    let engine = MockEngine::recording();
    let flag = |name: &str| {
        cli.flags
            .iter()
            .rev()
            .find(|(f, _)| f == name)
            .map(|(_, v)| v)
    };
    for def in &function.args {
        if let TypeRef::Object(kind) = &def.type_ref {
            let given = flag(&kebab(&def.name));
            match kind.as_str() {
                "Directory" => load_directory(&engine, &absolute(given.map_or(".", |v| v))?)?,
                "File" => {
                    if let Some(file) = given {
                        load_file(&engine, &absolute(file)?)?;
                    }
                }
                "Secret" => {
                    // The variable `address(value:).secret` reads: NAME, env:NAME, env://NAME.
                    let var = given.and_then(|v| match v.split_once(':') {
                        None => Some(v.as_str()),
                        Some(("env", rest)) => Some(rest.trim_start_matches("//")),
                        Some(_) => None,
                    });
                    if let Some(var) = var {
                        engine.set_env(var, PLAN_PLACEHOLDER);
                    }
                }
                _ => {}
            }
        }
    }
    let registry = flag("registry")
        .cloned()
        .or_else(|| default_of(function, "registry"));
    let username = flag("registry-username")
        .cloned()
        .or_else(|| default_of(function, "registry_username"));
    if let (Some(registry), Some(username)) = (registry, username) {
        if let Ok(host) = RegistryHost::parse(&registry) {
            engine.registry(host.as_str()).account(
                &username,
                PLAN_PLACEHOLDER,
                AccountRights::CreateOnly,
            );
        }
    }
    Ok(engine)
}

fn default_of(function: &FunctionDef, arg: &str) -> Option<String> {
    function
        .args
        .iter()
        .find(|a| a.name == arg)
        .and_then(|a| a.default.as_ref())
        .and_then(|d| d.as_str().map(str::to_string))
}

async fn run_plan(module: Blumeops, function: &FunctionDef, cli: &Cli) -> ExitCode {
    let engine = match recording_engine(function, cli) {
        Ok(engine) => engine,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let client = engine.client();
    let input = match input_args(function, cli, &client).await {
        Ok(input) => input,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    println!(
        "Plan of `{} {}` on the recording engine: no Dagger engine session, so nothing is \
         built or pushed; secrets are not read.\n",
        kebab(&function.name),
        cli.flags
            .iter()
            .map(|(f, v)| format!("--{f}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let outcome = call(&module, function, &client, input).await;
    let plan = engine.plan();
    if !plan.pushes.is_empty() {
        print!("{plan}");
    }
    match outcome {
        Ok(result) => {
            match result_text(&client, result).await {
                Ok(text) => println!(
                    "\nResult on the recording engine (digests are the recording engine's, not \
                     the registry's):\n  {text}"
                ),
                Err(message) => println!("\nResult: {message}"),
            }
            println!("\nEngine round trips: {}", engine.round_trips());
            ExitCode::SUCCESS
        }
        Err((message, code)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}
