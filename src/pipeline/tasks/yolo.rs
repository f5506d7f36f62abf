//! `export-yolov9`: a YOLOv9 detection model exported to ONNX.

use dagger_sdk::{File, Platform, Query, QueryContainerOpts};

use super::{Steps, TaskError};

/// The Python image, pinned by tag as the Python module pinned it.
pub const PYTHON_IMAGE: &str = "python:3.11-slim";

/// The platform the export runs on (PyTorch's wheels; the ONNX file is portable).
pub const PLATFORM: &str = "linux/amd64";

/// YOLOv9's repository.
pub const YOLOV9_REPO: &str = "https://github.com/WongKinYiu/yolov9.git";

/// Where YOLOv9 is cloned (and the export runs).
pub const YOLOV9_DIR: &str = "/yolov9";

/// The model sizes released as converted weights: the allowed values of `model-size`.
pub const MODEL_SIZES: [&str; 3] = ["s", "c", "e"];

/// The default `model-size`.
pub const DEFAULT_MODEL_SIZE: &str = "c";

/// The default `input-size` (pixels, square).
pub const DEFAULT_INPUT_SIZE: i64 = 640;

/// The network's largest stride: the input size must be a multiple of it.
pub const STRIDE: i64 = 32;

/// The Python packages installed beside YOLOv9's `requirements.txt`.
pub const EXTRA_PACKAGES: [&str; 5] = [
    "numpy<2",
    "onnx>=1.18.0",
    "onnxruntime",
    "onnx-simplifier>=0.4.1",
    "onnxscript",
];

/// The Debian packages the build and OpenCV need.
pub const SYSTEM_PACKAGES: [&str; 5] =
    ["git", "libgl1", "libglib2.0-0", "cmake", "build-essential"];

/// The line of `models/experimental.py` patched so that PyTorch ≥ 2.6 loads the released
/// (pickled) checkpoints, and its replacement.
pub const TORCH_LOAD_PATCH: (&str, &str) = (
    "map_location='cpu')",
    "map_location='cpu', weights_only=False)",
);

/// The cache policy of [`export_yolov9`].
pub const EXPORT_YOLOV9_CACHE: super::CachePolicy = super::CachePolicy::Default;

/// The URL of the released converted weights of `model_size`.
pub fn weights_url(model_size: &str) -> String {
    format!("https://github.com/WongKinYiu/yolov9/releases/download/v0.1/yolov9-{model_size}-converted.pt")
}

/// Exports YOLOv9 `model_size` at `input_size` to ONNX: `yolov9-<size>-<input>.onnx`.
///
/// Steps, on [`PLATFORM`] in [`PYTHON_IMAGE`]: install [`SYSTEM_PACKAGES`], clone YOLOv9,
/// `pip install -r requirements.txt` with [`EXTRA_PACKAGES`], the weights downloaded by the
/// engine ([`weights_url`]), `torch.load` patched ([`TORCH_LOAD_PATCH`]; a YOLOv9 without that
/// line fails here, not later), `python3 export.py --weights ./weights.pt --imgsz <input>
/// --simplify --include onnx`.
///
/// Cache policy: [`Default`](super::CachePolicy::Default): the released weights and the
/// arguments determine the model.
pub async fn export_yolov9(
    dag: &Query,
    model_size: &str,
    input_size: i64,
) -> Result<File, TaskError> {
    if !MODEL_SIZES.contains(&model_size) {
        return Err(TaskError::InvalidArgument {
            argument: "model-size",
            value: model_size.to_string(),
            rule: format!(
                "one of {} (the released converted weights)",
                MODEL_SIZES.join(", ")
            ),
        });
    }
    if input_size <= 0 || input_size % STRIDE != 0 {
        return Err(TaskError::InvalidArgument {
            argument: "input-size",
            value: input_size.to_string(),
            rule: format!("a positive multiple of {STRIDE}, the network's largest stride"),
        });
    }
    let steps = Steps::new("export-yolov9");
    let python = dag
        .container_opts(QueryContainerOpts {
            platform: Some(Platform(PLATFORM.to_string())),
        })
        .from(PYTHON_IMAGE);
    let python = steps.exec(&python, "apt-get update", &["apt-get", "update"]);
    let mut install = vec!["apt-get", "install", "-y", "--no-install-recommends"];
    install.extend(SYSTEM_PACKAGES);
    let python = steps.exec(&python, "install system packages", &install);
    let cloned = steps.exec(
        &python,
        "clone yolov9",
        &["git", "clone", "--depth", "1", YOLOV9_REPO, YOLOV9_DIR],
    );
    let repo = cloned.with_workdir(YOLOV9_DIR);
    let mut pip = vec!["pip", "install", "--no-cache-dir", "-r", "requirements.txt"];
    pip.extend(EXTRA_PACKAGES);
    let installed = steps.exec(&repo, "pip install", &pip);
    let experimental = format!("{YOLOV9_DIR}/models/experimental.py");
    let patched = installed
        .file(&experimental)
        .with_replaced(TORCH_LOAD_PATCH.0, TORCH_LOAD_PATCH.1);
    let ready = installed
        .with_file(
            format!("{YOLOV9_DIR}/weights.pt"),
            dag.http(weights_url(model_size)),
        )
        .with_file(&experimental, patched);
    let imgsz = input_size.to_string();
    let exported = steps.exec(
        &ready,
        "export.py",
        &[
            "python3",
            "export.py",
            "--weights",
            "./weights.pt",
            "--imgsz",
            imgsz.as_str(),
            "--simplify",
            "--include",
            "onnx",
        ],
    );
    let onnx = exported
        .file(format!("{YOLOV9_DIR}/weights.onnx"))
        .with_name(format!("yolov9-{model_size}-{input_size}.onnx"));
    steps.evaluated(onnx).await
}
