//! The baseline: the same module served the naive `dagger-sdk` way, as a Rust module written
//! straight on `dagger-sdk` 0.21.11 would do it.
//!
//! - The call is read field by field, and the arguments with `current_function_call()
//!   .input_args()` followed by `name()` and `value()` per argument (1 + 2 per argument round
//!   trips; `dagger-sdk` `gen.rs`, `FunctionCall::input_args`).
//! - Registration builds the type definitions with `dagger-sdk`'s builders; every object
//!   argument (`withArg(typeDef:)`, `withFunction(function:)`, `withObject(object:)`,
//!   `withListOf(elementType:)`) is resolved to its ID by a query of its own (`arg_lazy` in
//!   `querybuilder.rs`), recursively.
//! - `publish` builds the same container through the same catalog, then pushes one tag after
//!   another with `Container::publish`, as Dagger's own docs do; the password is a `Secret`
//!   object, so each push first resolves its ID again (nested IDs resolved per argument). The
//!   existing-tag check asks the engine tag by tag, as `dagger-sdk` allows:
//!   `container().with_registry_auth(...).from(<ref>).image_ref()`, a "not found" meaning absent.
//! - `returnValue` goes raw through the client: `dagger-sdk`'s `return_value` sends the same one
//!   query but fails to deserialize the engine's `null` answer.
//!
//! Every other function runs the library's own code (`Module::call`), so the difference measured
//! there is the dispatch alone.

use std::str::FromStr;

use blumeops::module::Blumeops;
use blumeops::pipeline::Catalog;
use blumeops::release::{release_tag, VPrefix, Version};
use dagger_engine::registry::{repository, RegistryHost, RepositoryName, Tag};
use dagger_engine::EngineClient;
use dagger_module_runtime::{
    return_error, return_value, ArgDef, Args, CachePolicy, CallContext, FunctionResult, Module,
    ModuleDef, TypeRef,
};
use dagger_publish::ExistingTagPolicy;
use dagger_sdk::{
    Directory, FunctionCachePolicy, FunctionWithArgOpts, FunctionWithCachePolicyOpts, Json, Query,
    Secret, TypeDef, TypeDefKind, TypeDefWithObjectOpts,
};
use serde_json::Value;

/// Why a naive run failed (the message only; the bench prints it).
pub(crate) type NaiveError = String;

fn sdk(what: &str) -> impl Fn(dagger_sdk::errors::DaggerError) -> NaiveError + '_ {
    move |e| format!("{what}: {e}")
}

/// The call as the naive way reads it: parent name, name, parent, then the arguments.
pub(crate) struct NaiveCall {
    pub parent_name: String,
    pub name: String,
    pub parent: Value,
    pub input_args: Vec<(String, Value)>,
}

/// Reads the current call with one query per field and `input_args()` + `name()`/`value()`.
pub(crate) async fn read_call(dag: &Query) -> Result<NaiveCall, NaiveError> {
    let call = dag.current_function_call();
    let parent_name = call.parent_name().await.map_err(sdk("parentName"))?;
    let name = call.name().await.map_err(sdk("name"))?;
    let parent = call.parent().await.map_err(sdk("parent"))?;
    let parent = serde_json::from_str(&parent.0).unwrap_or(Value::Null);
    let mut input_args = Vec::new();
    for arg in call.input_args().await.map_err(sdk("inputArgs"))? {
        let arg_name = arg.name().await.map_err(sdk("inputArgs name"))?;
        let value = arg.value().await.map_err(sdk("inputArgs value"))?;
        input_args.push((arg_name, Value::String(value.0)));
    }
    Ok(NaiveCall {
        parent_name,
        name,
        parent,
        input_args,
    })
}

fn type_def(dag: &Query, type_ref: &TypeRef, optional: bool) -> TypeDef {
    let def = match type_ref {
        TypeRef::String => dag.type_def().with_kind(TypeDefKind::StringKind),
        TypeRef::Integer => dag.type_def().with_kind(TypeDefKind::IntegerKind),
        TypeRef::Float => dag.type_def().with_kind(TypeDefKind::FloatKind),
        TypeRef::Boolean => dag.type_def().with_kind(TypeDefKind::BooleanKind),
        TypeRef::Void => dag.type_def().with_kind(TypeDefKind::VoidKind),
        TypeRef::List(inner) => dag.type_def().with_list_of(type_def(dag, inner, false)),
        TypeRef::Object(name) => dag.type_def().with_object(name.as_str()),
    };
    if optional {
        def.with_optional(true)
    } else {
        def
    }
}

fn with_arg(function: dagger_sdk::Function, dag: &Query, arg: &ArgDef) -> dagger_sdk::Function {
    let default = arg.default.as_ref().map(|v| Json(v.to_string()));
    let ignore: Vec<&str> = arg.ignore.iter().map(String::as_str).collect();
    function.with_arg_opts(
        arg.engine_name(),
        type_def(dag, &arg.type_ref, arg.optional),
        FunctionWithArgOpts {
            default_address: None,
            default_path: arg.default_path.as_deref(),
            default_value: default,
            deprecated: None,
            description: Some(arg.description.as_str()),
            ignore: (!ignore.is_empty()).then_some(ignore),
            source_map: None,
        },
    )
}

/// Registers `def` with `dagger-sdk`'s builders and returns the module's ID.
pub(crate) async fn register(def: &ModuleDef, dag: &Query) -> Result<String, NaiveError> {
    let mut object = dag.type_def().with_object_opts(
        def.object.name.as_str(),
        TypeDefWithObjectOpts {
            deprecated: None,
            description: Some(def.object.description.as_str()),
            source_map: None,
        },
    );
    for f in &def.object.functions {
        let mut function = dag
            .function(f.engine_name(), type_def(dag, &f.return_type, false))
            .with_description(f.description.as_str());
        for arg in &f.args {
            function = with_arg(function, dag, arg);
        }
        if let Some(policy) = &f.cache_policy {
            let sdk_policy = match policy {
                CachePolicy::Default { .. } => FunctionCachePolicy::Default,
                CachePolicy::PerSession => FunctionCachePolicy::PerSession,
                CachePolicy::Never => FunctionCachePolicy::Never,
            };
            let ttl = policy.time_to_live_arg();
            function = function.with_cache_policy_opts(
                sdk_policy,
                FunctionWithCachePolicyOpts {
                    time_to_live: ttl.as_deref(),
                },
            );
        }
        object = object.with_function(function);
    }
    let module = dag
        .module()
        .with_description(def.description.as_str())
        .with_object(object);
    let id = module.id().await.map_err(sdk("module id"))?;
    Ok(id.0)
}

/// `publish` the naive way (see the file's documentation).
async fn publish(dag: &Query, args: &Args) -> Result<FunctionResult, NaiveError> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let name = args.string("container_name").map_err(|e| err(&e))?;
    let version = Version::parse(&args.string("version").map_err(|e| err(&e))?, VPrefix::Keep)
        .map_err(|e| err(&e))?;
    let sha = blumeops::release::CommitSha::parse(&args.string("commit_sha").map_err(|e| err(&e))?)
        .map_err(|e| err(&e))?;
    let mut tags = vec![release_tag(&version, &sha)];
    for extra in args.string_list("extra_tags").map_err(|e| err(&e))? {
        tags.push(Tag::parse(&extra).map_err(|e| err(&e))?);
    }
    let registry = args.string("registry").map_err(|e| err(&e))?;
    let username = args.string("registry_username").map_err(|e| err(&e))?;
    let namespace = args.string("namespace").map_err(|e| err(&e))?;
    let policy =
        ExistingTagPolicy::from_str(&args.string("existing_tag_policy").map_err(|e| err(&e))?)
            .map_err(|e| err(&e))?;
    let repository: RepositoryName = repository(&namespace, &name).map_err(|e| err(&e))?;
    let host = RegistryHost::parse(&registry).map_err(|e| err(&e))?;

    let src: Directory = dag.r#ref(args.id("src").map_err(|e| err(&e))?);
    // The version guard, as the module does it (one read of the Dockerfile).
    if let Some(pinned) = Catalog::standard()
        .pinned_version(&src, &name)
        .await
        .map_err(|e| err(&e))?
    {
        blumeops::release::check_version(
            &name,
            version.as_str(),
            &pinned.version,
            &pinned.pinned_by,
        )
        .map_err(|e| err(&e))?;
    }
    let built = Catalog::standard()
        .build(dag, &src, &name)
        .map_err(|e| err(&e))?;
    let password: Option<Secret> = args
        .optional_id("registry_password")
        .map_err(|e| err(&e))?
        .map(|id| dag.r#ref(id));
    let container = match &password {
        Some(secret) => {
            built
                .container
                .with_registry_auth(registry.as_str(), username.as_str(), secret.clone())
        }
        None => built.container,
    };

    let mut existing = vec![None; tags.len()];
    if policy != ExistingTagPolicy::Overwrite {
        for (i, tag) in tags.iter().enumerate() {
            let mut lookup = dag.container();
            if let Some(secret) = &password {
                lookup =
                    lookup.with_registry_auth(host.as_str(), username.as_str(), secret.clone());
            }
            let address = format!("{host}/{repository}:{tag}");
            existing[i] = match lookup.from(address.as_str()).image_ref().await {
                Ok(image_ref) => image_ref.rsplit_once('@').map(|(_, d)| d.to_string()),
                Err(e) if e.to_string().contains(&format!("{address}: not found")) => None,
                Err(e) => return Err(format!("existing-tag check: {e}")),
            };
        }
    }
    let mut published = Vec::new();
    for (tag, found) in tags.iter().zip(existing) {
        let address = format!("{registry}/{repository}:{tag}");
        match (found, policy) {
            (Some(digest), ExistingTagPolicy::Fail) => {
                return Err(format!("{address} exists ({digest}); bump the version"))
            }
            (Some(digest), _) => published.push(format!("{address}@{digest}")),
            (None, _) => published.push(
                container
                    .publish(address.as_str())
                    .await
                    .map_err(sdk("publish"))?,
            ),
        }
    }
    Ok(FunctionResult::string(published.swap_remove(0)))
}

/// Serves the current call the naive way; `Ok(true)` when a value was returned.
pub(crate) async fn serve(module: &Blumeops, client: &EngineClient) -> Result<bool, NaiveError> {
    let dag = client.dagger();
    let call = read_call(&dag).await?;
    let def = module.definition();
    if call.parent_name.is_empty() {
        let id = register(&def, &dag).await?;
        return_value(client, &Value::String(id))
            .await
            .map_err(|e| e.to_string())?;
        return Ok(true);
    }
    let Some(function) = def.object.find_function(&call.name) else {
        return Err(format!("no function {:?}", call.name));
    };
    let outcome = match Args::decode(function, &call.input_args) {
        Err(e) => Err(e.to_string()),
        Ok(args) if function.name == "publish" => publish(&dag, &args).await,
        Ok(args) => {
            let ctx = CallContext::new(client.clone(), call.parent);
            module
                .call(&ctx, &function.name, &args)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let value = match outcome {
        Ok(FunctionResult::Value(v)) => v,
        Ok(FunctionResult::Void) => Value::Null,
        Ok(FunctionResult::Object(id)) => Value::String(id.0),
        Ok(FunctionResult::Container(c)) => Value::String(c.id().await.map_err(sdk("id"))?.0),
        Err(message) => {
            return_error(client, &message)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(false);
        }
    };
    return_value(client, &value)
        .await
        .map_err(|e| e.to_string())?;
    Ok(true)
}
