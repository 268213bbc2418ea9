# Generated from clients/python/openapi.json by clients/python/generate.py (datamodel-code-generator); do not edit.

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

ArchitectureName: TypeAlias = (
    Literal['logistic_regression', 'mlp']
    | Literal['linear']
    | Literal['gbm']
    | Literal['auto']
    | Literal['network']
)


Balance: TypeAlias = str | float


class BaselineProtection(TypedDict):
    """
    `DCRBaselineProtection` from the two DCR lists (module docs).
    """

    score: float | None
    median_dcr_synthetic: float
    median_dcr_random: float


class CacheHit(TypedDict):
    """
    Present on a response-cache hit (`X-Cache: HIT`).
    """

    hit: bool
    stored_at: str
    age_seconds: float


class CheckpointInfo(TypedDict):
    """
    The checkpoint a job continues from (`POST /v1/models/{id}/resume`, a hand-on, a resume).
    """

    key: str
    bytes: int
    epochs_done: int
    epoch: int
    batch: int
    saved_at: str


ClassCount = TypedDict(
    'ClassCount',
    {
        'class': str,
        'rows': int,
    },
)


class ColumnAutocorrelation(TypedDict):
    """
    One numeric step column's autocorrelations, lags 1..5.
    """

    column: str
    real: list[float]
    synthetic: list[float]
    similarity: float


class ColumnFit(TypedDict):
    """
    One column's fit.
    """

    name: str
    kind: str
    chosen: str
    ks_statistic: float | None
    ks_p_value: float | None
    candidates: list[tuple[str, float]]
    distinct: int
    nulls: int
    warnings: list[str]


class ColumnImportance(TypedDict):
    """
    How much a model's validation metric (accuracy, or R² for regression) drops when a
    column's values are shuffled.
    """

    column: str
    mean: float
    std: float


class ColumnScore(TypedDict):
    """
    One column's Column Shapes score.
    """

    column: str
    metric: str
    score: float


class ColumnSpec3(TypedDict):
    """
    One of `categories`, drawn with probabilities proportional to `weights` (an empty `weights`
    means equal weights).
    """

    name: str
    type: Literal['categorical']
    categories: list[str]
    weights: NotRequired[list[float]]


class ColumnSpec4(TypedDict):
    """
    `true` with probability `p_true`.
    """

    name: str
    type: Literal['boolean']
    p_true: float


class ColumnSpec5(TypedDict):
    """
    Instants uniform between `start` and `end` (RFC 3339 or `YYYY-MM-DD`), written as RFC 3339
    UTC with whole seconds.
    """

    name: str
    type: Literal['datetime']
    start: str
    end: str


class ComputeFacts(TypedDict):
    macs_per_sample: int | None
    inference_latency_ms: float | None
    effective_gmacs_per_second: float | None
    training_time_hours: float | None
    training_samples_per_second: float | None


class ConditionReport(TypedDict):
    """
    What one condition did over a generation.
    """

    column: str
    type: str
    method: str
    rejected: int
    counts: NotRequired[dict[str, Any] | None]


class ConditionsReport(TypedDict):
    """
    All conditions' outcome: every emitted row met each of them.
    """

    conditions: list[ConditionReport]
    draws: int
    accepted: int
    acceptance: float


ConfiguredState: TypeAlias = Literal['configured', 'not_configured']


class Constraint1(TypedDict, closed=True):
    """
    `min ≤ column ≤ max` (either bound may be left out).
    """

    type: Literal['range']
    column: str
    min: NotRequired[float | None]
    max: NotRequired[float | None]


class Constraint2(TypedDict, closed=True):
    """
    `low < high` on every row (`low ≤ high` with `or_equal`).
    """

    type: Literal['inequality']
    low: str
    high: str
    or_equal: NotRequired[bool]


class Constraint3(TypedDict, closed=True):
    """
    Every column ≥ 0 (> 0 with `strict`).
    """

    type: Literal['positive']
    columns: list[str]
    strict: NotRequired[bool]


class Constraint4(TypedDict, closed=True):
    """
    Every column ≤ 0 (< 0 with `strict`).
    """

    type: Literal['negative']
    columns: list[str]
    strict: NotRequired[bool]


class Constraint5(TypedDict, closed=True):
    """
    Only combinations of these columns' values seen in the sample rows.
    """

    type: Literal['fixed_combinations']
    columns: list[str]


class Constraint6(TypedDict, closed=True):
    """
    Exactly one of these columns is 1 (or true), the others 0 (or false).
    """

    type: Literal['one_hot']
    columns: list[str]


class Constraint7(TypedDict, closed=True):
    """
    The columns add up to `total` (within 1e-9 of |total|, at least 1e-9).
    """

    type: Literal['sum']
    columns: list[str]
    total: float


Constraint: TypeAlias = (
    Constraint1
    | Constraint2
    | Constraint3
    | Constraint4
    | Constraint5
    | Constraint6
    | Constraint7
)


class ConstraintReport(TypedDict):
    """
    What one constraint did over a generation.
    """

    type: str
    columns: list[str]
    method: str
    transformed: int
    rejected: int


class ConstraintsReport(TypedDict):
    """
    All constraints' outcome: every emitted row satisfied each of them.
    """

    constraints: list[ConstraintReport]
    draws: int
    accepted: int
    rejection_rate: float


class Convergence(TypedDict):
    loss: float
    loss_metric: str
    classes: int
    uniform_guess_loss: float
    ratio: float
    label: str


class Correlation(TypedDict):
    """
    A correlation between columns `a` and `b` in the copula's latent normal space. When a pair is
    listed twice the last entry wins.
    """

    a: str
    b: str
    r: float


DataFormat: TypeAlias = (
    Literal['tabular'] | Literal['sequential'] | Literal['time_series']
)


class DatabaseCheck(TypedDict):
    backend: str
    latency_ms: float
    error: str | None


DatasetOrigin: TypeAlias = Literal['generated', 'uploaded']


class DatasetUpload1(TypedDict, closed=True):
    """
    `POST /v1/datasets` as JSON: the table as `csv` text or `rows` (one of them).
    """

    name: NotRequired[str | None]
    target: NotRequired[str | None]
    csv: str
    rows: NotRequired[list[dict[str, Any]]]


class DatasetUpload2(TypedDict, closed=True):
    """
    `POST /v1/datasets` as JSON: the table as `csv` text or `rows` (one of them).
    """

    name: NotRequired[str | None]
    target: NotRequired[str | None]
    csv: NotRequired[None]
    rows: list[dict[str, Any]]


DatasetUpload: TypeAlias = DatasetUpload1 | DatasetUpload2


Direction: TypeAlias = Literal['maximize', 'minimize']


class Distribution1(TypedDict):
    """
    A continuous distribution (`"name"`) and its parameters.
    """

    name: Literal['normal']
    mean: float
    std: float


class Distribution2(TypedDict):
    """
    `exp(N(mu, sigma))`.
    """

    name: Literal['lognormal']
    mu: float
    sigma: float


class Distribution3(TypedDict):
    """
    A continuous distribution (`"name"`) and its parameters.
    """

    name: Literal['uniform']
    low: float
    high: float


class Distribution4(TypedDict):
    """
    A continuous distribution (`"name"`) and its parameters.
    """

    name: Literal['exponential']
    rate: float


class Distribution5(TypedDict):
    """
    A continuous distribution (`"name"`) and its parameters.
    """

    name: Literal['gamma']
    shape: float
    scale: float


class Distribution6(TypedDict):
    """
    On (0, 1).
    """

    name: Literal['beta']
    alpha: float
    beta: float


class Distribution7(TypedDict):
    """
    Sorted values at equally spaced probabilities 0, 1/(n−1), …, 1; sampled by linear
    interpolation of this quantile function.
    """

    name: Literal['empirical']
    quantiles: list[float]


Distribution: TypeAlias = (
    Distribution1
    | Distribution2
    | Distribution3
    | Distribution4
    | Distribution5
    | Distribution6
    | Distribution7
)


class DownloadUrls(TypedDict):
    csv: str | None
    jsonl: str | None
    parquet: str | None
    safetensors: NotRequired[str | None]


class DroppedColumn(TypedDict):
    """
    A dataset column left out of a model's features, and why (the training engine's screen
    or the request's choice).
    """

    column: str
    reason: str
    detail: str


class EarlyStopping(TypedDict):
    """
    Successive halving across trials (ASHA): rungs at `min_epochs · reduction_factor^k`.
    """

    min_epochs: int
    reduction_factor: int
    rungs: list[int]


class EarlyStoppingRequest(TypedDict, closed=True):
    """
    `early_stopping`.
    """

    type: Literal['asha']
    min_epochs: NotRequired[int | None]
    reduction_factor: NotRequired[int | None]


EnhancementScope: TypeAlias = Literal['architecture', 'training', 'data']


class EnhancementSummary(TypedDict):
    providers_used: list[str]
    total_processing_time: float
    confidence_score: float
    confidence_basis: str
    parts_timed_out: list[str]
    optimization_focus: str


class Enhancements(TypedDict):
    synthetic_data: NotRequired[dict[str, Any] | None]
    architecture_optimization: NotRequired[dict[str, Any] | None]
    research_insights: NotRequired[dict[str, Any] | None]


class EpochRecord(TypedDict):
    """
    One epoch of the training history (for gradient-boosted trees, a stage of `trees` trees).
    """

    epoch: int
    loss: float
    val_loss: float
    accuracy: NotRequired[float | None]
    val_accuracy: NotRequired[float | None]
    val_rmse: NotRequired[float | None]
    val_mae: NotRequired[float | None]
    val_r2: NotRequired[float | None]
    trees: NotRequired[int | None]
    seconds: float


ErrorCode: TypeAlias = (
    Literal[
        'VALIDATION_ERROR',
        'NOT_FOUND',
        'METHOD_NOT_ALLOWED',
        'PAYLOAD_TOO_LARGE',
        'MISSING_API_KEY',
        'RATE_LIMIT_EXCEEDED',
        'SERVICE_UNAVAILABLE',
        'PROCESSING_TIMEOUT',
        'CONFLICT',
        'UNAUTHORIZED',
        'INTERNAL_ERROR',
    ]
    | Literal['UNSATISFIABLE']
)


class FitReport(TypedDict):
    """
    What fitting found, column by column.
    """

    rows: int
    target: str | None
    columns: list[ColumnFit]


class ForecastSpec(TypedDict, closed=True):
    """
    `model_config.forecast`: the series and how it is cut.
    """

    target: str
    time_column: str
    window: int
    horizon: int
    season: NotRequired[int | None]


class GainImportance(TypedDict):
    """
    A gradient-boosted model's total split gain on a feature, as a share of all its gain.
    """

    column: str
    share: float


class GbmOptions(TypedDict, closed=True):
    """
    `model_config.gbm`: gradient-boosted trees' settings.
    """

    trees: NotRequired[int | None]
    learning_rate: NotRequired[float | None]
    max_depth: NotRequired[int | None]
    colsample: NotRequired[float | None]


class GeneralizationGap(TypedDict):
    accuracy_gap: float | None
    loss_gap: float | None
    loss_gap_normalized: float | None
    loss_gap_relative: float | None
    rule: str


HealthStatus: TypeAlias = Literal['healthy', 'degraded', 'unhealthy']


class ImageSetInfo(TypedDict):
    """
    What an image dataset holds; the images themselves are one safetensors file in the blob
    store (at `datasets/<id>.images.safetensors`): `images` (u8, `[N, H, W, C]`) and `labels` (u32,
    `[N]`), the class names in its metadata.
    """

    height: int
    width: int
    channels: int
    classes: list[ClassCount]
    bytes: int


IndexKind: TypeAlias = Literal['integer', 'numeric', 'datetime']


JobStatus: TypeAlias = Literal[
    'queued', 'in_progress', 'stopping', 'completed', 'failed', 'stopped'
]


class LambdaPrice(TypedDict):
    """
    The list price the cost is computed with, and its date.
    """

    usd_per_gb_second: float
    usd_per_request: float
    region: str
    architecture: str
    as_of: str


LayerKind: TypeAlias = (
    Literal[
        'input',
        'conv2d',
        'maxpool',
        'avgpool',
        'global_avg_pool',
        'global_max_pool',
        'dense',
        'flatten',
        'dropout',
        'batchnorm',
        'layernorm',
        'embedding',
        'lstm',
        'gru',
        'multi_head_attention',
        'transformer_block',
        'residual',
        'activation',
    ]
    | Literal['conv1d']
    | Literal['output']
)


InputShapeItem: TypeAlias = int


class LayerList(TypedDict):
    """
    A network as a list of layers (the analyzer's layer types and parameters).
    """

    input_shape: NotRequired[list[InputShapeItem] | None]
    layers: list[dict[str, Any]]


class LayerRow(TypedDict):
    """
    One layer of `architecture.layers` after shape propagation.

    `params`/`macs` are `None` when they depend on a dimension that is not known (for
    example the first dense layer when the input shape is unknown).
    """

    index: int
    type: str
    kind: LayerKind
    output_shape: list[int] | None
    output_shape_partial: NotRequired[list[int | None] | None]
    params: int | None
    macs: int | None
    torchinfo_mult_adds: int | None
    activation: NotRequired[str | None]
    notes: list[str]


Measure: TypeAlias = Literal['numeric', 'categorical']


class MetricPoint(TypedDict):
    epoch: int
    value: float


class ModelLinks(TypedDict):
    """
    Where to look next for a model.
    """

    status: str
    metrics_svg: str
    predict: str
    stop: str
    resume: str
    download: str


ModelStatus: TypeAlias = Literal['queued', 'training', 'completed', 'failed', 'stopped']


ModelType: TypeAlias = (
    Literal[
        'classification',
        'binary_classification',
        'multiclass_classification',
        'tabular_classification',
        'regression',
        'tabular_regression',
        'tabular',
        'image_classification',
        'nlp_classification',
    ]
    | Literal['computer_vision']
    | Literal['time_series_forecasting']
    | Literal['text_classification']
)


class NetworkInfo(TypedDict):
    """
    A layer-list network as planned at submission (by `analysis::network::plan`, for the
    dataset's input shape and classes).
    """

    preset: NotRequired[str | None]
    architecture: Any
    input_shape: list[int]
    outputs: int
    parameters: int
    macs: int


class Objective(TypedDict):
    """
    What the sweep optimizes: a validation metric of the history and its direction.
    """

    metric: str
    direction: Direction


class OnnxTensor(TypedDict):
    """
    One input or output of the ONNX graph.
    """

    name: str
    type: str
    shape: list[int | None]
    columns: NotRequired[list[str]]


class OptimizationSuggestion(TypedDict):
    category: str
    suggestion: str
    expected_improvement: str
    basis: str
    finding_id: NotRequired[str | None]
    source: str


OptimizerKind: TypeAlias = Literal['adam', 'adamw', 'sgd']


OrchestratorMode: TypeAlias = Literal['builtin_only', 'providers_with_builtin_fallback']


OverallHealth: TypeAlias = Literal[
    'fully_configured', 'partial_configuration', 'not_configured'
]


class OverfittingProtection(TypedDict):
    """
    `DCROverfittingProtection` from each synthetic row's DCR to the training and to the
    held-out rows (module docs).
    """

    score: float
    closer_to_training: float
    closer_to_holdout: float
    holdout_rows: int


class ParsedMetrics(TypedDict):
    """
    The metrics as parsed: fractions in [0, 1], latency in ms, training time in hours.
    """

    accuracy: float | None
    train_accuracy: float | None
    val_accuracy: float | None
    test_accuracy: float | None
    top5_accuracy: float | None
    loss: float | None
    train_loss: float | None
    val_loss: float | None
    test_loss: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    mse: float | None
    mae: float | None
    rmse: float | None
    r2: float | None
    inference_latency_ms: float | None
    training_time_hours: float | None
    epochs: int | None
    max_latency_ms: float | None
    max_model_size_mb: float | None
    other: dict[str, Any]


class PerformanceConstraints(TypedDict, closed=True):
    max_inference_latency: NotRequired[Any]
    max_model_size: NotRequired[Any]


class Phase(TypedDict):
    """
    One phase (training or inference) at one batch size.
    """

    batch_size: int
    parameters_bytes: int
    gradients_bytes: int
    optimizer_state_bytes: int
    activations_bytes: int
    input_bytes: int
    total_bytes: int


class PredictImages(TypedDict, closed=True):
    images: list[str]


class PredictRows(TypedDict, closed=True):
    rows: list[dict[str, Any]]


Text: TypeAlias = str


class PredictTexts(TypedDict, closed=True):
    texts: list[Text]


class PredictValues(TypedDict, closed=True):
    values: list[float]


class Prediction1(TypedDict):
    """
    A class with each class's probability, or (regression) a value.
    """

    label: str
    probabilities: dict[str, float]


class Prediction2(TypedDict):
    """
    A class with each class's probability, or (regression) a value.
    """

    value: float


Prediction: TypeAlias = Prediction1 | Prediction2


Preset: TypeAlias = Literal[
    'small_cnn',
    'lenet5',
    'resnet8',
    'resnet20',
    'resnet50',
    'lstm_forecaster',
    'textcnn',
    'fasttext',
]


class PrivacyOptions(TypedDict, closed=True):
    holdout: NotRequired[float | None]


class Progress(TypedDict):
    """
    Training progress.
    """

    epoch: int
    epochs: int
    percent: float


Provider: TypeAlias = Literal['openai', 'anthropic', 'perplexity', 'gemini', 'grok']


class ProviderAssessment(TypedDict):
    """
    A provider's own assessment, beside the analyzer's.
    """

    accuracy_assessment: str
    convergence_quality: str
    overfitting_risk: str
    source: str


class ProviderStatus(TypedDict):
    status: ConfiguredState
    capabilities: list[str]
    model: str
    key_variable: str
    cooling_down: bool
    cooldown_seconds_left: int | None


ClassCount1: TypeAlias = int


class Quality(TypedDict):
    """
    The quality report of a generated data set.
    """

    rows: int
    balance_ratio: float | None
    diversity_score: float
    realism_score: float
    method: str
    column_shapes: list[ColumnScore]
    column_pair_trends: float | None
    class_counts: list[tuple[str, ClassCount1]]
    distinct_rows: int
    metric_sample_rows: int


class QualityRequirements(TypedDict, closed=True):
    diversity: NotRequired[str | None]
    realism: NotRequired[str | None]
    balance: NotRequired[Balance | None]


RangeEnd: TypeAlias = float | str


class Recommendation(TypedDict):
    text: str
    source: str
    reason: str


class ReferenceResult(TypedDict):
    """
    One published result.
    """

    model: str
    accuracy: float
    citation: str
    source: str


class ResumeAccepted(TypedDict):
    """
    `POST /v1/models/{id}/resume`: the stopped job is queued again from its checkpoint.
    """

    model_id: str
    training_job_id: str
    status: JobStatus
    checkpoint: CheckpointInfo
    monitoring_url: str


class RungResult(TypedDict):
    trial: int
    value: float
    continued: bool


SampleRows: TypeAlias = list[dict[str, Any]] | str


class ScoreComponent(TypedDict):
    """
    One term of the score rubric.
    """

    name: str
    weight: float
    applied_weight: float
    value: float | None
    reason: str


SearchMethod: TypeAlias = Literal['grid', 'random']


class SequenceQuality(TypedDict):
    """
    How close generated sequences are to the sample's, beyond each column's shape.
    """

    real_entities: int
    synthetic_entities: int
    length_similarity: float
    autocorrelation_similarity: float | None
    columns: list[ColumnAutocorrelation]
    score: float


ServiceName: TypeAlias = Literal['database', 'ai_orchestrator']


ServiceState: TypeAlias = (
    Literal['operational'] | Literal['degraded'] | Literal['unavailable']
)


class ServiceStatus(TypedDict):
    """
    One entry per provider, in the spec's order.
    """

    openai: ProviderStatus
    anthropic: ProviderStatus
    perplexity: ProviderStatus
    gemini: ProviderStatus
    grok: ProviderStatus


class ServingMemory(TypedDict):
    """
    The models function's estimated peak while it predicts `rows` rows.
    """

    base_bytes: int
    parameters_bytes: int
    activations_bytes: int
    input_bytes: int
    total_bytes: int


Severity: TypeAlias = Literal['high', 'medium', 'low', 'info']


class StatusTransition(TypedDict):
    """
    One step of the job's life, with when it began.
    """

    status: str
    at: str
    message: str | None


class StopAccepted(TypedDict):
    """
    A stop request's answer: 200 `stopped` (a queued job), 202 `stopping` (a running one).
    """

    model_id: str
    training_job_id: str
    status: JobStatus
    monitoring_url: str


class Suggestion(TypedDict):
    """
    A constraint that holds on every real row, and the evidence for it.
    """

    constraint: Constraint
    support: int
    reason: str


class SweepBase(TypedDict, closed=True):
    """
    The training request each trial starts from.
    """

    model_config: dict[str, Any]
    training_config: NotRequired[dict[str, Any] | None]


class SweepLinks(TypedDict):
    self: str
    stop: str
    compare: str | None


class SweepSearch(TypedDict, closed=True):
    """
    The search: which fields, which values, how they are combined.
    """

    method: SearchMethod
    space: dict[str, Any]
    max_trials: NotRequired[int | None]
    seed: NotRequired[int | None]


SweepStatus: TypeAlias = Literal['running', 'stopping', 'completed', 'stopped']


TabularFamily: TypeAlias = Literal[
    'logistic_regression', 'linear', 'mlp', 'gbm', 'auto'
]


class TargetSpec(TypedDict):
    """
    The classification target: class names and their natural weights.
    """

    name: str
    classes: list[str]
    weights: NotRequired[list[float]]


class TargetSummary(TypedDict):
    """
    A target column's kind and distinct values, counted with the training shape.
    """

    kind: str
    distinct: int


Task: TypeAlias = Literal['classification', 'regression']


class TextSpec(TypedDict):
    """
    A text classifier's input: which column, how many words of each text, and how many ids
    its vocabulary may hold (the embedding layer's `vocab_size`).
    """

    column: str
    max_length: int
    vocab_size: int


class Timings(TypedDict):
    schema_seconds: float
    generation_seconds: float
    storage_seconds: float
    privacy_seconds: NotRequired[float | None]
    utility_seconds: NotRequired[float | None]


class Totals(TypedDict):
    """
    Whole-model counts.
    """

    params: int | None
    trainable_params: int | None
    non_trainable_buffers: int
    known_params: int
    layers_with_unknown_params: list[int]
    macs: int | None
    torchinfo_mult_adds: int | None
    model_size_mb_fp32: float | None
    weight_layers: int


TrainArchitecture: TypeAlias = TabularFamily | Preset | LayerList


class TrainDataset(TypedDict):
    """
    The dataset a model trains on.
    """

    id: str
    rows: int
    target: str | None


class TrainForecast(TypedDict, closed=True):
    """
    `model_config.forecast` as sent (the record keeps it as `ForecastSpec`).
    """

    target: str
    time_column: str
    window: int
    horizon: NotRequired[int | None]
    season: NotRequired[int | None]


HiddenLayer: TypeAlias = int


Feature: TypeAlias = str


ExcludeItem: TypeAlias = str


class TrainModelConfig(TypedDict, closed=True):
    """
    `model_config` of a training request.
    """

    name: str
    type: ModelType
    architecture: NotRequired[TrainArchitecture]
    gbm: NotRequired[GbmOptions | None]
    hidden_layers: NotRequired[list[HiddenLayer] | None]
    dataset: str
    features: NotRequired[list[Feature] | None]
    exclude: NotRequired[list[ExcludeItem] | None]
    target_accuracy: NotRequired[float | None]
    forecast: NotRequired[TrainForecast | None]
    text_column: NotRequired[str | None]
    max_length: NotRequired[int | None]


TrainStatus: TypeAlias = Literal['training_started']


class TrainTrainingConfig(TypedDict, closed=True):
    """
    `training_config` of a training request, as sent; `TrainingConfig` is it with the
    defaults filled in.
    """

    epochs: NotRequired[int | None]
    batch_size: NotRequired[int | None]
    learning_rate: NotRequired[float | None]
    ai_enhancement: NotRequired[bool | None]
    providers: NotRequired[list[Provider] | None]
    optimizer: NotRequired[OptimizerKind | None]
    validation_split: NotRequired[float | None]
    seed: NotRequired[int | None]
    weight_decay: NotRequired[float | None]
    time_budget_seconds: NotRequired[int | None]
    max_runtime_seconds: NotRequired[int | None]


class TrainingConfig(TypedDict):
    """
    How a job trains, every default filled in (as stored and as answered).
    """

    epochs: int
    batch_size: int
    learning_rate: float
    ai_enhancement: bool
    providers: list[str]
    optimizer: OptimizerKind
    validation_split: float
    seed: int
    weight_decay: float
    time_budget_seconds: NotRequired[int | None]
    max_runtime_seconds: NotRequired[int | None]


class TrainingMemory(TypedDict):
    """
    The worker's estimated peak, by term.
    """

    base_bytes: int
    dataset_bytes: int
    parameters_bytes: int
    largest_layer_bytes: int
    activations_bytes: int
    total_bytes: int


class TrainingResources(TypedDict):
    """
    How a training request's memory was estimated (bytes), and what it was held against.
    """

    parameters: int
    training: TrainingMemory
    worker_memory_bytes: int
    serving: ServingMemory
    models_function_memory_bytes: int
    feature_width_source: str


class TrainingShape(TypedDict):
    """
    A dataset's size as a model sees it, counted when the dataset is made.
    """

    feature_width: int
    class_counts: list[ClassCount]
    target: NotRequired[TargetSummary | None]


TrialStatus: TypeAlias = (
    Literal['completed', 'failed']
    | Literal['pending']
    | Literal['running']
    | Literal['stopped']
    | Literal['pruned']
    | Literal['cancelled']
)


class UploadCreated(TypedDict):
    """
    `201` of `POST /v1/datasets/uploads`: where to PUT the file, then what to call.
    """

    upload_id: str
    method: str
    url: str
    headers: dict[str, str]
    max_bytes: int
    expires_at: str
    complete_url: str


class UploadRequest(TypedDict, closed=True):
    """
    `POST /v1/datasets/uploads`: a file larger than a request may carry, announced before it
    is sent.
    """

    content_type: str
    bytes: int
    name: NotRequired[str | None]
    target: NotRequired[str | None]
    size: NotRequired[str | None]


class Usage2(TypedDict):
    """
    Tokens and cost one provider consumed for one request.
    """

    provider: str
    model: str
    calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float | None
    cost_source: str | None


class UsageBlock(TypedDict):
    """
    Provider usage of one request.
    """

    providers: list[Usage2]
    total_cost_usd: float
    price_table_as_of: str


class UsageRow(TypedDict):
    """
    A provider's totals for one day (or, in `/v1/ai/usage`'s `totals`, the whole range).
    """

    day: str
    provider: str
    calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float


class UtilityModel(TypedDict):
    """
    The model both sides train: gradient-boosted trees with these settings.
    """

    family: str
    trees: int
    learning_rate: float
    max_depth: int
    seed: int


class UtilityOptions(TypedDict, closed=True):
    """
    `privacy` of `POST /v1/ai/synthetic-data`.
    `utility` of `POST /v1/ai/synthetic-data`.
    """

    holdout: NotRequired[float | None]
    target: NotRequired[str | None]


class UtilityScores(TypedDict):
    """
    Scores of one model on the holdout.
    """

    accuracy: NotRequired[float | None]
    macro_f1: NotRequired[float | None]
    balanced_accuracy: NotRequired[float | None]
    r2: NotRequired[float | None]
    rmse: NotRequired[float | None]
    mae: NotRequired[float | None]


class WordCounts(TypedDict):
    """
    Words per value of a text column (words: runs of letters and digits).
    """

    values: int
    mean: float
    p95: int
    max: int


class AiStatus(TypedDict):
    """
    `GET /v1/ai/status`.
    """

    service_status: ServiceStatus
    overall_health: OverallHealth
    configured_services: int
    total_services: int


class AnalyzeRequest(TypedDict, closed=True):
    """
    `POST /v1/ai/analyze`.
    """

    model_description: str
    architecture: NotRequired[dict[str, Any] | None]
    data_sample: NotRequired[str | None]
    performance_metrics: NotRequired[dict[str, Any] | None]
    providers: NotRequired[list[Provider] | None]


class AssessmentItem(TypedDict):
    """
    A strength or weakness: the analyzer's findings carry their id, severity, detail and
    evidence; a provider's carry only its text.
    """

    text: str
    source: str
    id: NotRequired[str | None]
    severity: NotRequired[Severity | None]
    detail: NotRequired[str | None]
    evidence: NotRequired[Any]


class Attempt(TypedDict):
    """
    What happened at one provider during a request.
    """

    provider: Provider
    model: str
    outcome: str
    status: int | None
    message: str | None
    retries: int
    latency_ms: int


class ColumnSpec1(TypedDict):
    """
    Real numbers drawn from `distribution`, truncated to `[min, max]` when given, rounded to
    `decimals` when given.
    """

    name: str
    type: Literal['numeric']
    distribution: Distribution
    min: NotRequired[float | None]
    max: NotRequired[float | None]
    decimals: NotRequired[int | None]


class ColumnSpec2(TypedDict):
    """
    Integers: the continuous `distribution` truncated to `[min − ½, max + ½]`, then rounded.
    """

    name: str
    type: Literal['integer']
    distribution: Distribution
    min: NotRequired[int | None]
    max: NotRequired[int | None]


ColumnSpec: TypeAlias = (
    ColumnSpec1 | ColumnSpec2 | ColumnSpec3 | ColumnSpec4 | ColumnSpec5
)


class ComparedColumn(TypedDict):
    name: str
    measure: Measure


class ComparedModel(TypedDict):
    model_id: str
    name: str
    status: ModelStatus
    job_status: JobStatus
    settings: dict[str, Any]
    accuracy: float | None
    r2: float | None
    epochs_run: int
    final_val_loss: float | None
    best_epoch: int | None
    best_value: float | None


class Condition(TypedDict, closed=True):
    """
    One condition, as a request names it: `column` with exactly one of `value`, a range
    (`min` and/or `max`), or category shares (`values`).
    """

    column: str
    value: NotRequired[Any]
    min: NotRequired[RangeEnd | None]
    max: NotRequired[RangeEnd | None]
    values: NotRequired[dict[str, Any] | None]


class DataSchema(TypedDict):
    """
    A table's schema: feature columns, an optional classification target (generated last in each
    row) and pairwise correlations in the copula's latent normal space.
    """

    columns: list[ColumnSpec]
    target: NotRequired[TargetSpec | None]
    correlations: NotRequired[list[Correlation]]


class DatasetColumn(TypedDict):
    """
    A stored dataset's column as it was read: its name, its kind and, for uploads, why.
    """

    name: str
    kind: str
    reason: NotRequired[str | None]
    words: NotRequired[WordCounts | None]


class DatasetCreated(TypedDict):
    """
    `201` of `POST /v1/datasets`: the record and its fitted schema.
    """

    id: str
    name: str | None
    origin: DatasetOrigin
    rows: int
    columns: list[DatasetColumn]
    target: str | None
    schema_source: str
    seed: int | None
    csv_bytes: int
    jsonl_bytes: int
    parquet_bytes: int | None
    created_at: str
    training_shape: TrainingShape | None
    download_urls: DownloadUrls
    images: NotRequired[ImageSetInfo | None]
    schema: DataSchema | None
    suggested_constraints: NotRequired[list[Suggestion] | None]


class DatasetSummary(TypedDict):
    """
    A dataset record (as listed).
    """

    id: str
    name: str | None
    origin: DatasetOrigin
    rows: int
    columns: list[DatasetColumn]
    target: str | None
    schema_source: str
    seed: int | None
    csv_bytes: int
    jsonl_bytes: int
    parquet_bytes: int | None
    created_at: str
    training_shape: TrainingShape | None
    download_urls: DownloadUrls
    images: NotRequired[ImageSetInfo | None]


class EnhanceConfig(TypedDict, closed=True):
    optimization_focus: NotRequired[str | None]
    performance_constraints: NotRequired[PerformanceConstraints | None]
    enhancement_scope: NotRequired[list[EnhancementScope] | None]


class EnhanceRequest(TypedDict, closed=True):
    """
    `POST /v1/ai/enhance`.
    """

    model_description: str
    training_data: NotRequired[str | None]
    performance_metrics: NotRequired[dict[str, Any] | None]
    architecture: NotRequired[dict[str, Any] | None]
    config: NotRequired[EnhanceConfig | None]
    providers: NotRequired[list[Provider] | None]


class EnhanceResponse(TypedDict):
    """
    `200` of `POST /v1/ai/enhance`.
    """

    status: str
    enhancement_summary: EnhancementSummary
    enhancements: Enhancements
    implementation_roadmap: list[dict[str, Any]]
    constraints: list[dict[str, Any]]
    provider_attempts: dict[str, Any]
    usage: UsageBlock
    cached: NotRequired[CacheHit | None]


class ErrorBody(TypedDict):
    """
    The error itself: a code, a message for people, and details for programs.
    """

    code: ErrorCode
    message: str
    details: Any


class Finding(TypedDict):
    """
    One computed observation; `evidence` holds the numbers behind it.
    """

    id: str
    severity: Severity
    title: str
    detail: str
    evidence: Any


class GeneratedSchema(TypedDict):
    features: list[str]
    target: str | None
    columns: list[ColumnSpec]
    target_spec: TargetSpec | None
    correlations: list[Correlation]
    schema_source: str


class HealthServices(TypedDict):
    ai_orchestrator: ServiceState
    database: ServiceState


class HistoryPage(TypedDict):
    """
    `GET /v1/models/{id}/history`: the learning curve, one metric's points or whole epoch
    records, within an epoch range, downsampled on the server to `max_points`.
    """

    model_id: str
    status: JobStatus
    epochs: int
    from_epoch: int
    to_epoch: int
    in_range: int
    metric: str | None
    max_points: int
    downsampling: str
    points: NotRequired[list[MetricPoint] | None]
    history: NotRequired[list[EpochRecord] | None]


class JobBilling(TypedDict):
    """
    A job's worker time and cost (see README "Long jobs"): `gb_seconds = worker_seconds ×
    memory_mb / 1024`, `cost_usd = gb_seconds × usd_per_gb_second + requests ×
    usd_per_request`.
    """

    worker_seconds: float
    memory_mb: int
    gb_seconds: float
    requests: int
    cost_usd: float
    price: LambdaPrice


class MemoryEstimate(TypedDict):
    bytes_per_value: int
    parameters: int
    activations_per_sample: int
    input_values_per_sample: int
    training: Phase
    training_sgd: Phase
    inference: Phase
    formula: str


class ModelComparison(TypedDict):
    """
    `GET /v1/models/compare?ids=...`: settings side by side, the fields that differ, final
    figures, and one metric's curves aligned by epoch.
    """

    models: list[ComparedModel]
    differing: list[str]
    metric: str
    max_points: int
    epochs: list[int]
    series: dict[str, list[float | None]]


class ModelSummary(TypedDict):
    """
    One row of `GET /v1/models`.
    """

    id: str
    name: str
    type: ModelType
    status: ModelStatus
    accuracy: float | None
    r2: NotRequired[float | None]
    created_at: str
    updated_at: str
    training_job_id: str


class OnnxSignature(TypedDict):
    """
    What the ONNX file takes and answers: the names and types to call it with.
    """

    opset: int
    inputs: list[OnnxTensor]
    outputs: list[OnnxTensor]


class OrchestratorCheck(TypedDict):
    providers_configured: int
    mode: OrchestratorMode
    configuration_problems: list[str]


PredictRequest: TypeAlias = PredictRows | PredictImages | PredictValues | PredictTexts


class Predictions(TypedDict):
    """
    `200` of `POST /v1/models/{id}/predict`.
    """

    model_id: str
    model_status: ModelStatus
    task: Task
    family: str
    classes: list[str]
    features: list[str]
    count: int
    predictions: list[Prediction]


class PrivacyReport(TypedDict):
    """
    The privacy report of synthetic rows against the real rows they were fitted on.
    """

    exact_match_rate: float
    dcr_median: float
    dcr_p5: float
    nndr_median: float
    dcr_baseline_protection: BaselineProtection
    dcr_overfitting_protection: NotRequired[OverfittingProtection | None]
    synthetic_rows: int
    real_rows: int
    columns: list[ComparedColumn]
    method: str


class ReferenceComparison(TypedDict):
    dataset: str
    metric: str
    accuracy: float
    best: ReferenceResult
    baseline: ReferenceResult
    points_below_best: float
    points_above_baseline: float
    ratio_to_best: float


class RungRecord(TypedDict):
    """
    The values recorded at one rung, in arrival order.
    """

    epoch: int
    results: list[RungResult]


class Score(TypedDict):
    overall: float
    coverage: float
    components: list[ScoreComponent]
    rubric: str


class SequenceModel(TypedDict):
    """
    A fitted sequence model: everything generation needs.
    """

    sequence_key: str
    integer_key: bool
    sequence_index: str | None
    index_kind: IndexKind | None
    context: DataSchema
    steps: DataSchema | None
    autoregression: list[tuple[str, float]]
    header: list[str]
    entities: int
    rows: int


class Sequences(TypedDict):
    """
    A sequential dataset's model and quality.
    """

    model: SequenceModel
    quality: SequenceQuality


class SweepRequest(TypedDict, closed=True):
    """
    `POST /v1/sweeps`.
    """

    name: NotRequired[str | None]
    dataset: str
    objective: Literal['val_loss', 'val_accuracy', 'val_rmse', 'val_mae', 'val_r2']
    direction: NotRequired[Direction | None]
    max_parallel: NotRequired[int | None]
    base: SweepBase
    search: SweepSearch
    early_stopping: NotRequired[EarlyStoppingRequest | None]


class SweepTrial(TypedDict):
    """
    One trial of a sweep.
    """

    trial: int
    settings: dict[str, Any]
    status: TrialStatus
    model_id: str | None
    training_job_id: str | None
    metric: float | None
    epochs_run: int | None
    pruned_at_epoch: int | None
    failure_reason: str | None
    started_at: str | None
    ended_at: str | None
    monitoring_url: str | None


class SyntheticDataRequest1(TypedDict, closed=True):
    """
    `POST /v1/ai/synthetic-data`: `model_description` is required unless `schema` or
    `sample_rows` is given.
    """

    model_description: str
    existing_data: NotRequired[str | None]
    target_count: NotRequired[int | None]
    data_format: NotRequired[DataFormat | None]
    quality_requirements: NotRequired[QualityRequirements | None]
    seed: NotRequired[int | None]
    schema: NotRequired[DataSchema | None]
    sample_rows: NotRequired[SampleRows | None]
    target: NotRequired[str | None]
    include_data: NotRequired[bool | None]
    name: NotRequired[str | None]
    providers: NotRequired[list[Provider] | None]
    privacy: NotRequired[PrivacyOptions | None]
    utility: NotRequired[UtilityOptions | None]
    constraints: NotRequired[list[Constraint] | None]
    conditions: NotRequired[list[Condition] | None]
    sequence_key: NotRequired[str | None]
    sequence_index: NotRequired[str | None]


class SyntheticDataRequest2(TypedDict, closed=True):
    """
    `POST /v1/ai/synthetic-data`: `model_description` is required unless `schema` or
    `sample_rows` is given.
    """

    model_description: NotRequired[str | None]
    existing_data: NotRequired[str | None]
    target_count: NotRequired[int | None]
    data_format: NotRequired[DataFormat | None]
    quality_requirements: NotRequired[QualityRequirements | None]
    seed: NotRequired[int | None]
    schema: DataSchema | None
    sample_rows: NotRequired[SampleRows | None]
    target: NotRequired[str | None]
    include_data: NotRequired[bool | None]
    name: NotRequired[str | None]
    providers: NotRequired[list[Provider] | None]
    privacy: NotRequired[PrivacyOptions | None]
    utility: NotRequired[UtilityOptions | None]
    constraints: NotRequired[list[Constraint] | None]
    conditions: NotRequired[list[Condition] | None]
    sequence_key: NotRequired[str | None]
    sequence_index: NotRequired[str | None]


class SyntheticDataRequest3(TypedDict, closed=True):
    """
    `POST /v1/ai/synthetic-data`: `model_description` is required unless `schema` or
    `sample_rows` is given.
    """

    model_description: NotRequired[str | None]
    existing_data: NotRequired[str | None]
    target_count: NotRequired[int | None]
    data_format: NotRequired[DataFormat | None]
    quality_requirements: NotRequired[QualityRequirements | None]
    seed: NotRequired[int | None]
    schema: NotRequired[DataSchema | None]
    sample_rows: SampleRows | None
    target: NotRequired[str | None]
    include_data: NotRequired[bool | None]
    name: NotRequired[str | None]
    providers: NotRequired[list[Provider] | None]
    privacy: NotRequired[PrivacyOptions | None]
    utility: NotRequired[UtilityOptions | None]
    constraints: NotRequired[list[Constraint] | None]
    conditions: NotRequired[list[Condition] | None]
    sequence_key: NotRequired[str | None]
    sequence_index: NotRequired[str | None]


SyntheticDataRequest: TypeAlias = (
    SyntheticDataRequest1 | SyntheticDataRequest2 | SyntheticDataRequest3
)


class TrainAccepted(TypedDict):
    """
    `202` of `POST /v1/models/train`.
    """

    status: TrainStatus
    model_id: str
    training_job_id: str
    estimated_completion: str
    ai_enhancements_scheduled: list[str]
    monitoring_url: str
    providers_not_configured: list[str]
    dataset: TrainDataset
    resources: TrainingResources


class TrainRequest(TypedDict, closed=True):
    """
    `POST /v1/models/train`.
    """

    model_config: TrainModelConfig
    training_config: NotRequired[TrainTrainingConfig | None]


class UsageDay(TypedDict):
    date: str
    providers: list[UsageRow]


class UtilityReport(TypedDict):
    """
    The utility report (`tabular::utility` says how each figure is computed).
    """

    target: str
    task: str
    metric: str
    model: UtilityModel
    real_rows: int
    synthetic_rows: int
    holdout_rows: int
    real: UtilityScores
    synthetic: UtilityScores
    baseline: UtilityScores
    ratio: float | None
    score: float | None


class ArchitectureAssessment(TypedDict):
    strengths: list[str]
    weaknesses: list[str]
    overall_score: float
    strengths_detail: list[AssessmentItem]
    weaknesses_detail: list[AssessmentItem]
    score_details: Score
    input_shape: list[int] | None
    num_classes: int | None
    layers: list[LayerRow]
    totals: Totals
    memory: MemoryEstimate | None
    assumptions: list[str]
    findings: list[Finding]


class ArtifactInfo(TypedDict):
    """
    Where a trained model's weights are and what they expect.
    """

    key: str
    bytes: int
    parameters: int
    features: list[str]
    classes: list[str]
    dropped_columns: list[DroppedColumn]
    importance: list[ColumnImportance]
    family: NotRequired[str | None]
    task: NotRequired[Task | None]
    trees: NotRequired[int | None]
    gain_importance: NotRequired[list[GainImportance]]
    onnx: NotRequired[OnnxSignature | None]
    saved_at: str


class Dataset(TypedDict):
    """
    `GET /v1/datasets/{id}`: the record, its quality and its schema.
    """

    id: str
    name: str | None
    origin: DatasetOrigin
    rows: int
    columns: list[DatasetColumn]
    target: str | None
    schema_source: str
    seed: int | None
    csv_bytes: int
    jsonl_bytes: int
    parquet_bytes: int | None
    created_at: str
    training_shape: TrainingShape | None
    download_urls: DownloadUrls
    images: NotRequired[ImageSetInfo | None]
    quality: dict[str, Any] | None
    schema: dict[str, Any] | None


class DatasetList(TypedDict):
    """
    `GET /v1/datasets`.
    """

    datasets: list[DatasetSummary]
    next_token: str | None


class Error(TypedDict):
    """
    The envelope every error is answered in.
    """

    error: ErrorBody
    timestamp: str
    request_id: str


class HealthChecks(TypedDict):
    database: DatabaseCheck
    ai_orchestrator: OrchestratorCheck


class Model(TypedDict):
    """
    `GET /v1/models/{id}`: the model record.
    """

    id: str
    name: str
    type: ModelType
    architecture: ArchitectureName | None
    dataset: str | None
    target_accuracy: float | None
    status: ModelStatus
    accuracy: float | None
    r2: NotRequired[float | None]
    training_job_id: str
    training_config: TrainingConfig
    hidden_layers: list[int] | None
    task: NotRequired[Task | None]
    gbm: NotRequired[GbmOptions | None]
    feature_columns: NotRequired[list[str] | None]
    excluded_columns: NotRequired[list[str]]
    network: NotRequired[NetworkInfo | None]
    forecast: NotRequired[ForecastSpec | None]
    text: NotRequired[TextSpec | None]
    artifact: ArtifactInfo | None
    created_at: str
    updated_at: str
    monitoring_url: str
    links: ModelLinks


class ModelList(TypedDict):
    """
    `GET /v1/models`: newest first.
    """

    models: list[ModelSummary]
    total_models: int
    active_training: int
    next_token: str | None


class PerformanceAnalysis(TypedDict):
    metrics: ParsedMetrics
    accuracy_assessment: str
    reference: ReferenceComparison | None
    convergence_quality: str
    convergence: Convergence | None
    overfitting_risk: str
    generalization_gap: GeneralizationGap | None
    compute: ComputeFacts
    notes: list[str]


class PerformanceAssessment(TypedDict):
    accuracy_assessment: str
    convergence_quality: str
    overfitting_risk: str
    source: str
    details: PerformanceAnalysis
    provider_assessment: NotRequired[ProviderAssessment | None]


class QualityMetrics(TypedDict):
    diversity_score: float
    realism_score: float
    balance_ratio: float | None
    method: str
    details: Quality
    privacy: NotRequired[PrivacyReport | None]
    utility: NotRequired[UtilityReport | None]


class Sweep(TypedDict):
    """
    `GET /v1/sweeps/{id}` (and the answer of its stop).
    """

    sweep_id: str
    name: str
    status: SweepStatus
    dataset: str
    objective: Objective
    method: SearchMethod
    seed: int
    max_parallel: int
    early_stopping: EarlyStopping | None
    counts: dict[str, int]
    trials: list[SweepTrial]
    best: SweepTrial | None
    rungs: list[RungRecord]
    elapsed_seconds: float
    created_at: str
    updated_at: str
    ended_at: str | None
    links: SweepLinks


class SweepAccepted(TypedDict):
    """
    `202` of `POST /v1/sweeps`.
    """

    sweep_id: str
    status: SweepStatus
    trials: int
    max_parallel: int
    seed: int
    started: list[SweepTrial]
    monitoring_url: str


class SweepSummary(TypedDict):
    """
    One sweep in `GET /v1/sweeps`, as last recorded (`GET /v1/sweeps/{id}` brings a sweep up
    to date first).
    """

    sweep_id: str
    name: str
    status: SweepStatus
    dataset: str
    objective: Objective
    method: SearchMethod
    max_parallel: int
    trials: int
    counts: dict[str, int]
    best: SweepTrial | None
    created_at: str
    updated_at: str
    ended_at: str | None
    monitoring_url: str


class SyntheticData(TypedDict):
    dataset_id: str
    generated_samples: int
    format: str
    data_format: str
    quality_metrics: QualityMetrics
    data_schema: GeneratedSchema
    seed: int
    balance: str
    download_url: str
    download_urls: DownloadUrls
    preview: list[dict[str, Any]]
    data: NotRequired[list[dict[str, Any]] | None]
    fit_report: NotRequired[FitReport | None]
    constraints: NotRequired[ConstraintsReport | None]
    conditions: NotRequired[ConditionsReport | None]
    suggested_constraints: NotRequired[list[Suggestion] | None]
    sequences: NotRequired[Sequences | None]


class SyntheticDataResponse(TypedDict):
    """
    `200` of `POST /v1/ai/synthetic-data`.
    """

    status: str
    provider: str
    synthetic_data: SyntheticData
    recommendations: list[str]
    recommendation_details: list[Recommendation]
    generation_time_seconds: float
    timings: Timings
    provider_attempts: list[Attempt]
    usage: UsageBlock
    cached: NotRequired[CacheHit | None]


class TrainingStatus(TypedDict):
    """
    `GET /v1/models/{id}/status`: the job, its transitions, progress and learning curve.
    """

    model_id: str
    model_status: ModelStatus
    accuracy: float | None
    r2: NotRequired[float | None]
    training_job_id: str
    status: JobStatus
    status_transitions: list[StatusTransition]
    secondary_status: str | None
    secondary_transitions: list[StatusTransition]
    progress: Progress | None
    history: list[EpochRecord]
    final_metrics: dict[str, Any] | None
    ai_enhancements_scheduled: list[str]
    ai_enhancements: Any
    training_config: TrainingConfig
    architecture: ArchitectureName | None
    hidden_layers: list[int] | None
    dataset: str | None
    artifact: ArtifactInfo | None
    estimated_completion: str
    failure_reason: str | None
    heartbeat_at: str | None
    heartbeat_age_seconds: float | None
    heartbeat_timeout_seconds: int
    created_at: str
    updated_at: str
    invocations: int
    checkpoints: int
    checkpoint: CheckpointInfo | None
    last_checkpoint_at: str | None
    resumes: int
    billing: JobBilling
    links: ModelLinks


Usage = TypedDict(
    'Usage',
    {
        'from': str,
        'to': str,
        'days': list[UsageDay],
        'totals': list[UsageRow],
        'total_cost_usd': float,
        'price_table_as_of': str,
        'cost_note': str,
    },
)


class Analysis(TypedDict):
    architecture_assessment: ArchitectureAssessment
    performance_analysis: PerformanceAssessment
    optimization_suggestions: list[OptimizationSuggestion]


class AnalyzeResponse(TypedDict):
    """
    `200` of `POST /v1/ai/analyze`.
    """

    status: str
    provider: str
    analysis: Analysis
    analysis_time_seconds: float
    provider_attempts: list[Attempt]
    usage: UsageBlock
    cached: NotRequired[CacheHit | None]


class Health(TypedDict):
    """
    `GET /health`: 200 when healthy or degraded, 503 when unhealthy.
    """

    status: HealthStatus
    timestamp: str
    version: str
    services: HealthServices
    failing_services: list[ServiceName]
    checks: HealthChecks


class SweepList(TypedDict):
    """
    `GET /v1/sweeps`: newest first.
    """

    sweeps: list[SweepSummary]
    next_token: str | None
