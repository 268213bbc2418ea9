//! Hand-computed counts, every finding rule triggered and not, parsing, thresholds, score.

use serde_json::{json, Value};

use super::*;

fn req(arch: Value, sample: Option<&str>, metrics: Option<Value>) -> AnalysisInput {
    AnalysisInput {
        model_description: None,
        architecture: Some(arch),
        data_sample: sample.map(str::to_string),
        performance_metrics: metrics,
    }
}

fn run(input: &AnalysisInput) -> Analysis {
    analyze(input).expect("analysis succeeds")
}

fn err(input: &AnalysisInput) -> AnalysisError {
    analyze(input).expect_err("analysis fails")
}

fn has(a: &Analysis, id: &str) -> bool {
    a.findings.iter().any(|f| f.id == id)
}

fn finding<'a>(a: &'a Analysis, id: &str) -> &'a Finding {
    a.findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("finding {id} missing; got {:?}", ids(a)))
}

fn ids(a: &Analysis) -> Vec<&str> {
    a.findings.iter().map(|f| f.id.as_str()).collect()
}

fn strength(a: &Analysis, id: &str) -> bool {
    a.strengths.iter().any(|f| f.id == id)
}

fn params(a: &Analysis) -> Vec<Option<u64>> {
    a.layers.iter().map(|l| l.params).collect()
}

fn shapes(a: &Analysis) -> Vec<Option<Vec<usize>>> {
    a.layers.iter().map(|l| l.output_shape.clone()).collect()
}

fn spec_cnn_with(layers: Value) -> AnalysisInput {
    let mut input = fixtures::spec_cnn_input();
    input.architecture = Some(json!({ "layers": layers }));
    input
}

// ---------------------------------------------------------------- counts and shapes

#[test]
fn spec_cnn_counts_match_hand_computation() {
    let a = run(&fixtures::spec_cnn_input());
    assert_eq!(a.input_shape, Some(vec![32, 32, 3]));
    assert_eq!(a.input_shape_source, "data_sample");
    assert_eq!(a.num_classes, Some(10));
    assert_eq!(a.dataset.as_deref(), Some("CIFAR-10"));
    assert_eq!(a.training_samples, Some(50_000));
    assert_eq!(
        shapes(&a),
        vec![
            Some(vec![30, 30, 32]),
            Some(vec![15, 15, 32]),
            Some(vec![13, 13, 64]),
            Some(vec![128]),
            Some(vec![10]),
        ]
    );
    // conv: (3·3·3 + 1)·32; conv: (3·3·32 + 1)·64; dense: 13·13·64·128 + 128; out: 128·10 + 10.
    assert_eq!(
        params(&a),
        vec![
            Some(896),
            Some(0),
            Some(18_496),
            Some(1_384_576),
            Some(1_290)
        ]
    );
    assert_eq!(a.totals.params, Some(1_405_258));
    assert_eq!(a.totals.trainable_params, Some(1_405_258));
    // MACs: 3·3·3·32·30·30 + 3·3·32·64·13·13 + 10816·128 + 128·10.
    let macs: Vec<Option<u64>> = a.layers.iter().map(|l| l.macs).collect();
    assert_eq!(
        macs,
        vec![
            Some(777_600),
            Some(0),
            Some(3_115_008),
            Some(1_384_448),
            Some(1_280)
        ]
    );
    assert_eq!(a.totals.macs, Some(5_278_336));
    let size = a.totals.model_size_mb_fp32.unwrap();
    assert!((size - 5.621_032).abs() < 1e-9, "{size}");
    assert_eq!(a.totals.weight_layers, 4);
    assert!(a.assumptions.iter().any(|s| s.contains("implicit flatten")));
    assert_eq!(a.layers[1].kind, LayerKind::MaxPool);
    assert_eq!(a.layers[4].kind, LayerKind::Output);
}

#[test]
fn mlp_on_784_features() {
    let a = run(&req(
        json!({"input_shape": [784], "layers": [
            {"type": "dense", "units": 256, "activation": "relu"},
            {"type": "dropout", "rate": 0.2},
            {"type": "dense", "units": 128, "activation": "relu"},
            {"type": "output", "units": 10, "activation": "softmax"}
        ]}),
        Some("MNIST digits"),
        None,
    ));
    assert_eq!(a.input_shape_source, "architecture.input_shape");
    // 784·256 + 256; 0; 256·128 + 128; 128·10 + 10.
    assert_eq!(
        params(&a),
        vec![Some(200_960), Some(0), Some(32_896), Some(1_290)]
    );
    assert_eq!(a.totals.params, Some(235_146));
    assert_eq!(a.totals.macs, Some(200_704 + 32_768 + 1_280));
    assert_eq!(
        shapes(&a),
        vec![
            Some(vec![256]),
            Some(vec![256]),
            Some(vec![128]),
            Some(vec![10])
        ]
    );
}

#[test]
fn lstm_and_gru_follow_pytorch_counts() {
    let a = run(&req(
        json!({"input_shape": [50, 10], "layers": [
            {"type": "lstm", "units": 32, "return_sequences": true},
            {"type": "gru", "hidden_size": 16},
            {"type": "output", "units": 1, "activation": "sigmoid"}
        ]}),
        Some("sensor sequences, 2 classes"),
        None,
    ));
    // LSTM 4·(10·32 + 32·32 + 2·32) = 5632; GRU 3·(32·16 + 16·16 + 2·16) = 2400; 16 + 1.
    assert_eq!(params(&a), vec![Some(5_632), Some(2_400), Some(17)]);
    assert_eq!(a.totals.params, Some(8_049));
    assert_eq!(
        shapes(&a),
        vec![Some(vec![50, 32]), Some(vec![16]), Some(vec![1])]
    );
    // MACs: 50·4·(10·32 + 32·32); 50·3·(32·16 + 16·16).
    assert_eq!(a.layers[0].macs, Some(268_800));
    assert_eq!(a.layers[1].macs, Some(115_200));
    assert!(a.assumptions.iter().any(|s| s.contains("two bias vectors")));
}

#[test]
fn bidirectional_lstm_doubles_params_and_width() {
    let a = run(&req(
        json!({"input_shape": [20, 4], "layers": [
            {"type": "LSTM", "units": 8, "bidirectional": true}
        ]}),
        None,
        None,
    ));
    // 2 directions · 4 gates · (4·8 + 8·8 + 2·8) = 896.
    assert_eq!(params(&a), vec![Some(896)]);
    assert_eq!(shapes(&a), vec![Some(vec![16])]);
}

#[test]
fn embedding_and_transformer_block() {
    let a = run(&req(
        json!({"input_shape": [128], "layers": [
            {"type": "embedding", "input_dim": 10000, "output_dim": 64},
            {"type": "transformer_block", "heads": 4, "ff_dim": 256},
            {"type": "global_avg_pool"},
            {"type": "output", "units": 2, "activation": "softmax"}
        ]}),
        Some("IMDB movie reviews"),
        None,
    ));
    // Block: attention 4·(64² + 64) = 16,640; two layernorms 4·64 = 256;
    // FFN 64·256 + 256 + 256·64 + 64 = 33,088.
    assert_eq!(
        params(&a),
        vec![Some(640_000), Some(49_984), Some(0), Some(130)]
    );
    assert_eq!(a.totals.params, Some(690_114));
    assert_eq!(
        shapes(&a),
        vec![
            Some(vec![128, 64]),
            Some(vec![128, 64]),
            Some(vec![64]),
            Some(vec![2])
        ]
    );
    // 4·128·64² + 2·128²·64 + 2·128·64·256.
    assert_eq!(a.layers[1].macs, Some(2_097_152 + 2_097_152 + 4_194_304));
    assert_eq!(a.num_classes, Some(2));
    assert!(strength(&a, "normalization_present"));
    assert!(strength(&a, "residual_connections"));
}

#[test]
fn transformer_ff_dim_defaults_to_four_d_and_mha_counts() {
    let a = run(&req(
        json!({"input_shape": [10, 8], "layers": [
            {"type": "mha", "num_heads": 2},
            {"type": "transformer", "heads": 2}
        ]}),
        None,
        None,
    ));
    // MHA 4·(8² + 8) = 288; MACs 4·10·8² + 2·10²·8 = 4160.
    assert_eq!(a.layers[0].params, Some(288));
    assert_eq!(a.layers[0].macs, Some(4_160));
    // Block with ff = 32: 288 + 32 + (8·32 + 32 + 32·8 + 8) = 872.
    assert_eq!(a.layers[1].params, Some(872));
    assert!(a.layers[1].notes.iter().any(|n| n.contains("4·d = 32")));
}

#[test]
fn same_padding_stride_and_explicit_padding() {
    let a = run(&req(
        json!({"input_shape": [32, 32, 3], "layers": [
            {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same"},
            {"type": "conv2d", "filters": 32, "kernel_size": 3, "strides": 2, "padding": "same"},
            {"type": "conv2d", "filters": 8, "kernel_size": [5, 5], "stride": 2, "padding": 1},
            {"type": "conv2d", "filters": 4, "kernel_size": [1, 3], "stride": [1, 2], "use_bias": false},
            {"type": "maxpool", "pool_size": 3, "stride": 1}
        ]}),
        None,
        None,
    ));
    // same keeps 32; same with stride 2 gives ceil(32/2) = 16; floor((16 + 2 − 5)/2) + 1 = 7;
    // [1,3] stride [1,2]: 7 and floor((7 − 3)/2) + 1 = 3; pool 3 stride 1: 5 and 1.
    assert_eq!(
        shapes(&a),
        vec![
            Some(vec![32, 32, 16]),
            Some(vec![16, 16, 32]),
            Some(vec![7, 7, 8]),
            Some(vec![7, 3, 4]),
            Some(vec![5, 1, 4]),
        ]
    );
    // (27 + 1)·16; (144 + 1)·32; (800 + 1)·8; no bias: 24·4.
    assert_eq!(
        params(&a),
        vec![Some(448), Some(4_640), Some(6_408), Some(96), Some(0)]
    );
    assert!(a.layers[1].notes.iter().any(|n| n.contains("ceil")));
    assert_eq!(a.layers[2].macs, Some(5 * 5 * 32 * 8 * 7 * 7));
}

#[test]
fn conv1d_slides_over_the_sequence_of_an_embedding() {
    let a = run(&req(
        json!({"input_shape": [100], "layers": [
            {"type": "embedding", "input_dim": 1000, "output_dim": 16},
            {"type": "Conv1D", "filters": 32, "kernel_size": 5, "activation": "relu"},
            {"type": "conv_1d", "filters": 8, "kernel_size": [3], "strides": 2, "padding": "same", "use_bias": false},
            {"type": "convolution1d", "filters": 4, "kernel": 4, "stride": [3], "padding": 2, "in_channels": 8},
            {"type": "global_max_pool"},
            {"type": "output", "units": 2, "activation": "softmax"}
        ]}),
        None,
        None,
    ));
    assert!(a.layers[1..4].iter().all(|l| l.kind == LayerKind::Conv1d));
    // valid: 100 − 5 + 1 = 96; same with stride 2: ceil(96 / 2) = 48;
    // padding 2, stride 3: floor((48 + 4 − 4) / 3) + 1 = 17.
    assert_eq!(
        shapes(&a)[1..5],
        [
            Some(vec![96, 32]),
            Some(vec![48, 8]),
            Some(vec![17, 4]),
            Some(vec![4])
        ]
    );
    // (k·C_in + bias)·filters: (5·16 + 1)·32; 3·32·8 without bias; (4·8 + 1)·4.
    assert_eq!(params(&a)[1..4], [Some(2_592), Some(768), Some(132)]);
    // MACs k·C_in·filters·seq_out; torchinfo: the parameters once per output position.
    assert_eq!(a.layers[1].macs, Some(5 * 16 * 32 * 96));
    assert_eq!(a.layers[2].macs, Some(3 * 32 * 8 * 48));
    assert_eq!(a.layers[1].torchinfo_mult_adds, Some(2_592 * 96));
    assert_eq!(a.layers[3].torchinfo_mult_adds, Some(132 * 17));
    assert!(a.layers[2].notes.iter().any(|n| n.contains("ceil")));
    assert_eq!(a.totals.weight_layers, 4);
    assert!(!has(&a, "declared_size_mismatch"));
    assert!(!has(&a, "incompatible_layer_input"));

    // The unfolded inputs the trainer multiplies: seq_out·k·C_in per conv.
    let plan = network::plan(
        &json!({"layers": [
            {"type": "embedding", "input_dim": 1000, "output_dim": 16},
            {"type": "conv1d", "filters": 32, "kernel_size": 5},
            {"type": "global_max_pool"},
            {"type": "output"}
        ]}),
        &[100],
        2,
    )
    .unwrap();
    let size = footprint::NetworkSize::of_plan(&plan);
    assert_eq!(size.unfolded_per_sample, 96 * 5 * 16);
}

#[test]
fn conv1d_needs_a_sequence_and_a_window_that_fits() {
    // A flat vector or an image is the wrong rank, as for conv2d.
    for shape in [json!([10]), json!([8, 8, 3])] {
        let a = run(&req(
            json!({"input_shape": shape, "layers": [
                {"type": "conv1d", "filters": 4, "kernel_size": 3},
                {"type": "dense", "units": 2}
            ]}),
            None,
            None,
        ));
        let f = finding(&a, "incompatible_layer_input");
        assert_eq!(f.evidence["layers"][0]["layer"], 0, "{shape}");
        assert_eq!(a.layers[0].output_shape, None);
    }
    // A window longer than the sequence collapses it.
    let a = run(&req(
        json!({"input_shape": [4, 2], "layers": [
            {"type": "conv1d", "filters": 4, "kernel_size": 6},
            {"type": "global_avg_pool"},
            {"type": "dense", "units": 2}
        ]}),
        None,
        None,
    ));
    let f = finding(&a, "spatial_collapse");
    assert_eq!(f.evidence["kernel"], json!([6]));
    assert_eq!(f.evidence["computed_output"], json!([-1]));
    assert!(
        f.detail.contains("a window of 6 with stride 1"),
        "{}",
        f.detail
    );
    assert_eq!(a.layers[0].params, Some((6 * 2 + 1) * 4));
    let e = network::plan(
        &json!([{"type": "conv1d", "filters": 4, "kernel_size": 6}, {"type": "global_avg_pool"}, {"type": "dense", "units": 2}]),
        &[4, 2],
        2,
    )
    .unwrap_err();
    assert_eq!(e.field(), "architecture.layers[0]");
    // Same padding keeps it, but the window is larger than the sequence.
    let a = run(&req(
        json!({"input_shape": [4, 2], "layers": [
            {"type": "conv1d", "filters": 4, "kernel_size": 6, "padding": "same", "in_channels": 3}
        ]}),
        None,
        None,
    ));
    assert_eq!(shapes(&a), vec![Some(vec![4, 4])]);
    assert_eq!(
        finding(&a, "kernel_larger_than_input").evidence["layers"][0]["kernel"],
        json!([6])
    );
    assert_eq!(
        finding(&a, "declared_size_mismatch").evidence["layers"][0]["declared"],
        3
    );
    // Parameters name their field; a 2-D kernel or padding is not a 1-D one.
    for (layer, field) in [
        (json!({"type": "conv1d", "filters": 4}), "kernel_size"),
        (json!({"type": "conv1d", "kernel_size": 3}), "filters"),
        (
            json!({"type": "conv1d", "filters": 4, "kernel_size": [3, 3]}),
            "kernel_size",
        ),
        (
            json!({"type": "conv1d", "filters": 4, "kernel_size": 3, "stride": [1, 2]}),
            "stride",
        ),
        (
            json!({"type": "conv1d", "filters": 4, "kernel_size": 3, "padding": [1, 1]}),
            "padding",
        ),
    ] {
        let e = err(&req(json!({ "layers": [layer] }), None, None));
        assert_eq!(
            e.field(),
            format!("architecture.layers[0].{field}"),
            "{layer}"
        );
    }
}

#[test]
fn batchnorm_counts_two_c_params_and_two_c_buffers() {
    let a = run(&req(
        json!({"input_shape": [28, 28, 1], "layers": [
            {"type": "conv2d", "filters": 8, "kernel_size": 3},
            {"type": "batch_normalization"},
            {"type": "layernorm"}
        ]}),
        None,
        None,
    ));
    assert_eq!(params(&a), vec![Some(80), Some(16), Some(16)]);
    assert_eq!(a.totals.params, Some(112));
    assert_eq!(a.totals.non_trainable_buffers, 16);
}

#[test]
fn unknown_input_leaves_dependent_counts_unknown() {
    let a = run(&req(
        json!({"layers": [
            {"type": "dense", "units": 64, "activation": "relu"},
            {"type": "dense", "units": 10, "activation": "softmax"}
        ]}),
        None,
        None,
    ));
    assert_eq!(a.input_shape, None);
    assert_eq!(a.input_shape_source, "unknown");
    assert_eq!(params(&a), vec![None, Some(650)]);
    assert_eq!(a.totals.params, None);
    assert_eq!(a.totals.known_params, 650);
    assert_eq!(a.totals.layers_with_unknown_params, vec![0]);
    assert!(a
        .assumptions
        .iter()
        .any(|s| s.contains("input shape unknown")));
    // Input unknown: after the first dense the width is known again.
    assert_eq!(shapes(&a), vec![Some(vec![64]), Some(vec![10])]);
}

#[test]
fn embedding_without_sequence_length_keeps_partial_shape() {
    let a = run(&req(
        json!({"layers": [
            {"type": "embedding", "vocab_size": 1000, "embedding_dim": 32},
            {"type": "lstm", "units": 16}
        ]}),
        None,
        None,
    ));
    assert_eq!(a.layers[0].output_shape, None);
    assert_eq!(a.layers[0].output_shape_partial, Some(vec![None, Some(32)]));
    // 4·(32·16 + 16·16 + 32) = 3200 needs no sequence length; MACs do.
    assert_eq!(params(&a), vec![Some(32_000), Some(3_200)]);
    assert_eq!(a.layers[1].macs, None);
    assert_eq!(a.totals.params, Some(35_200));
}

#[test]
fn first_layer_input_shape_and_output_units_default() {
    let a = run(&req(
        json!({"layers": [
            {"type": "dense", "units": 32, "input_shape": [20]},
            {"type": "output", "activation": "softmax"}
        ]}),
        Some("tabular data, 3 classes"),
        None,
    ));
    assert_eq!(a.input_shape_source, "architecture.layers[0].input_shape");
    assert_eq!(params(&a), vec![Some(672), Some(99)]);
    assert!(a.layers[1]
        .notes
        .iter()
        .any(|n| n.contains("3 (the number of classes)")));
}

#[test]
fn residual_default_source_and_mismatch() {
    let ok = run(&req(
        json!({"input_shape": [32], "layers": [
            {"type": "dense", "units": 32},
            {"type": "dense", "units": 32},
            {"type": "add"}
        ]}),
        None,
        None,
    ));
    assert!(!has(&ok, "residual_shape_mismatch"));
    assert!(ok.layers[2].notes.iter().any(|n| n.contains("layer 0")));

    let bad = run(&req(
        json!({"input_shape": [16], "layers": [
            {"type": "dense", "units": 32},
            {"type": "residual", "from": "input"}
        ]}),
        None,
        None,
    ));
    let f = finding(&bad, "residual_shape_mismatch");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["layers"][0]["added_shape"], json!([16]));
    assert_eq!(f.evidence["layers"][0]["current_shape"], json!([32]));
}

// ---------------------------------------------------------------- parsing and errors

#[test]
fn aliases_are_case_and_separator_insensitive() {
    let a = run(&req(
        json!({"input_shape": [16, 16, 3], "layers": [
            {"type": "Conv-2D", "out_channels": 4, "kernel": 3},
            {"type": "BN"},
            {"type": "Max Pooling2D"},
            {"type": "AveragePooling2D", "pool_size": [1, 1]},
            {"type": "GAP"},
            {"type": "Fully Connected", "out_features": 8},
            {"type": "Dropout", "p": 0.3},
            {"type": "Linear", "units": 2},
            {"type": "softmax"}
        ]}),
        None,
        None,
    ));
    let kinds: Vec<LayerKind> = a.layers.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        vec![
            LayerKind::Conv2d,
            LayerKind::BatchNorm,
            LayerKind::MaxPool,
            LayerKind::AvgPool,
            LayerKind::GlobalAvgPool,
            LayerKind::Dense,
            LayerKind::Dropout,
            LayerKind::Dense,
            LayerKind::Activation,
        ]
    );
    assert_eq!(a.layers[0].type_written, "Conv-2D");
    assert_eq!(a.layers[8].activation.as_deref(), Some("softmax"));
    // 7x7 after the default 2x2 pool; GAP → 4.
    assert_eq!(a.layers[2].output_shape, Some(vec![7, 7, 4]));
    assert_eq!(a.layers[5].params, Some(4 * 8 + 8));
}

#[test]
fn unknown_type_names_index_and_lists_supported() {
    let e = err(&req(
        json!({"layers": [{"type": "dense", "units": 4}, {"type": "dense", "units": 4}, {"type": "capsule"}]}),
        None,
        None,
    ));
    assert_eq!(e.field(), "architecture.layers[2].type");
    assert!(e.to_string().contains("capsule"));
    assert!(e.to_string().contains("conv2d"));
    assert!(e.to_string().contains("conv1d"));
}

#[test]
fn bad_parameters_name_the_field() {
    let cases = [
        (
            json!([{"type": "conv2d", "filters": 8, "kernel_size": 0}]),
            "architecture.layers[0].kernel_size",
        ),
        (
            json!([{"type": "conv2d", "filters": "32", "kernel_size": 3}]),
            "architecture.layers[0].filters",
        ),
        (
            json!([{"type": "conv2d", "filters": 8}]),
            "architecture.layers[0].kernel_size",
        ),
        (
            json!([{"type": "dense", "units": 4}, {"type": "dense"}]),
            "architecture.layers[1].units",
        ),
        (
            json!([{"type": "dense", "units": -3}]),
            "architecture.layers[0].units",
        ),
        (
            json!([{"type": "dropout", "rate": 1.5}]),
            "architecture.layers[0].rate",
        ),
        (
            json!([{"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "full"}]),
            "architecture.layers[0].padding",
        ),
        (
            json!([{"type": "conv2d", "filters": 8, "kernel_size": [3, 3, 3]}]),
            "architecture.layers[0].kernel_size",
        ),
        (
            json!([{"type": "dense", "units": 4}, {"type": "dense", "units": 4}, {"type": "add", "from": 5}]),
            "architecture.layers[2].from",
        ),
        (
            json!([{"type": "lstm", "units": 4, "return_sequences": "yes"}]),
            "architecture.layers[0].return_sequences",
        ),
        (
            json!([{"type": "embedding", "input_dim": 10}]),
            "architecture.layers[0].output_dim",
        ),
        (json!([{"units": 4}]), "architecture.layers[0].type"),
        (json!([42]), "architecture.layers[0]"),
        (
            json!([{"type": "dense", "units": 4}, {"type": "input"}]),
            "architecture.layers[1].type",
        ),
    ];
    for (layers, field) in cases {
        let e = err(&req(json!({ "layers": layers }), None, None));
        assert_eq!(e.field(), field, "{layers}: {e}");
    }
    // An output layer without units and no class count cannot default.
    let e = err(&req(json!({"layers": [{"type": "output"}]}), None, None));
    assert_eq!(e.field(), "architecture.layers[0].units");
}

#[test]
fn bad_architecture_and_input_shape() {
    assert_eq!(err(&req(json!("cnn"), None, None)).field(), "architecture");
    assert_eq!(
        err(&req(json!({"layers": {"type": "dense"}}), None, None)).field(),
        "architecture.layers"
    );
    assert_eq!(
        err(&req(
            json!({"input_shape": [0, 3], "layers": []}),
            None,
            None
        ))
        .field(),
        "architecture.input_shape[0]"
    );
    assert_eq!(
        err(&req(
            json!({"input_shape": [1, 2, 3, 4], "layers": []}),
            None,
            None
        ))
        .field(),
        "architecture.input_shape"
    );
    assert_eq!(
        err(&req(
            json!({"max_model_size": "big", "layers": []}),
            None,
            None
        ))
        .field(),
        "architecture.max_model_size"
    );
}

#[test]
fn overflowing_counts_are_errors_not_wraparound() {
    let e = err(&req(
        json!({"input_shape": [1_000_000_000, 1_000_000_000, 3], "layers": [
            {"type": "conv2d", "filters": 1_000_000_000, "kernel_size": 3, "padding": "same"}
        ]}),
        None,
        None,
    ));
    assert_eq!(e.field(), "architecture.layers[0]");
    let e = err(&req(
        json!({"layers": [{"type": "dense", "units": 2_000_000_000}]}),
        None,
        None,
    ));
    assert_eq!(e.field(), "architecture.layers[0].units");
}

#[test]
fn bad_metrics_name_the_field() {
    let arch = json!({"layers": []});
    let cases = [
        (json!({"accuracy": 150}), "performance_metrics.accuracy"),
        (json!({"accuracy": "high"}), "performance_metrics.accuracy"),
        (json!({"loss": -1.0}), "performance_metrics.loss"),
        (
            json!({"inference_latency": "fast"}),
            "performance_metrics.inference_latency",
        ),
        (
            json!({"training_time": "3 fortnights"}),
            "performance_metrics.training_time",
        ),
        (json!({"epochs": 2.5}), "performance_metrics.epochs"),
        (json!({"r2": 1.5}), "performance_metrics.r2"),
    ];
    for (metrics, field) in cases {
        let e = err(&req(arch.clone(), None, Some(metrics.clone())));
        assert_eq!(e.field(), field, "{metrics}: {e}");
    }
    assert_eq!(
        err(&req(arch, None, Some(json!([1, 2])))).field(),
        "performance_metrics"
    );
}

#[test]
fn empty_input_is_not_an_error() {
    let a = run(&AnalysisInput::default());
    assert!(a.layers.is_empty());
    assert_eq!(a.totals.params, None);
    assert!(a.findings.is_empty());
    assert_eq!(a.score.overall, 0.5);
    assert_eq!(a.score.coverage, 0.0);
}

// ---------------------------------------------------------------- data_sample

#[test]
fn data_sample_shapes_classes_and_counts() {
    // (data_sample, input shape, classes, training samples, dataset)
    type Case = (
        &'static str,
        Option<Vec<usize>>,
        Option<usize>,
        Option<u64>,
        Option<&'static str>,
    );
    let cases: [Case; 9] = [
        (
            "32x32 RGB images, 10 classes",
            Some(vec![32, 32, 3]),
            Some(10),
            None,
            None,
        ),
        (
            "28x28 grayscale digits",
            Some(vec![28, 28, 1]),
            None,
            None,
            None,
        ),
        (
            "224x224 photos of 5 categories",
            Some(vec![224, 224, 3]),
            Some(5),
            None,
            None,
        ),
        (
            "64×64×3 tiles, 12,000 training images",
            Some(vec![64, 64, 3]),
            None,
            Some(12_000),
            None,
        ),
        (
            "Fashion-MNIST",
            Some(vec![28, 28, 1]),
            Some(10),
            Some(60_000),
            Some("Fashion-MNIST"),
        ),
        (
            "CIFAR-100 images",
            Some(vec![32, 32, 3]),
            Some(100),
            Some(50_000),
            Some("CIFAR-100"),
        ),
        (
            "cifar10, 5k images",
            Some(vec![32, 32, 3]),
            Some(10),
            Some(5_000),
            Some("CIFAR-10"),
        ),
        (
            "IMDB reviews truncated to 200 tokens",
            Some(vec![200]),
            Some(2),
            Some(25_000),
            Some("IMDB"),
        ),
        (
            "customer table with 20 features, 1.2M rows",
            Some(vec![20]),
            None,
            Some(1_200_000),
            None,
        ),
    ];
    for (sample, shape, classes, samples, dataset) in cases {
        let a = run(&req(json!({"layers": []}), Some(sample), None));
        assert_eq!(a.input_shape, shape, "{sample}");
        assert_eq!(a.num_classes, classes, "{sample}");
        assert_eq!(a.training_samples, samples, "{sample}");
        assert_eq!(a.dataset.as_deref(), dataset, "{sample}");
    }
    // 224x224 without a channel word assumes RGB and says so.
    let a = run(&req(json!({"layers": []}), Some("224x224 photos"), None));
    assert!(a.assumptions.iter().any(|s| s.contains("3 (RGB) assumed")));
    // Names inside other names do not match.
    for other in ["EMNIST letters", "tiny-imagenet", "kmnist"] {
        let a = run(&req(json!({"layers": []}), Some(other), None));
        assert_eq!(a.dataset, None, "{other}");
    }
}

#[test]
fn dataset_from_description_and_stated_classes_win() {
    let mut input = req(json!({"layers": []}), Some("a 20 classes subset"), None);
    input.model_description = Some("ResNet for ImageNet".into());
    let a = run(&input);
    assert_eq!(a.dataset.as_deref(), Some("ImageNet"));
    assert_eq!(a.input_shape, Some(vec![224, 224, 3]));
    assert_eq!(a.input_shape_source, "model_description");
    assert_eq!(a.num_classes, Some(20));
    assert_eq!(a.num_classes_source, "data_sample");
}

// ---------------------------------------------------------------- findings: each rule both ways

#[test]
fn no_normalization_rule() {
    let a = run(&fixtures::spec_cnn_input());
    assert_eq!(finding(&a, "no_normalization").evidence["weight_layers"], 4);
    let fixed = run(&spec_cnn_with(json!([
        {"type": "conv2d", "filters": 32, "kernel_size": 3},
        {"type": "batchnorm"},
        {"type": "maxpool", "pool_size": 2},
        {"type": "conv2d", "filters": 64, "kernel_size": 3},
        {"type": "dense", "units": 128},
        {"type": "output", "units": 10, "activation": "softmax"}
    ])));
    assert!(!has(&fixed, "no_normalization"));
    // Two weight layers: not deep enough for the rule to apply.
    let shallow = run(&spec_cnn_with(json!([
        {"type": "conv2d", "filters": 8, "kernel_size": 3},
        {"type": "global_avg_pool"},
        {"type": "output", "units": 10, "activation": "softmax"}
    ])));
    assert!(!has(&shallow, "no_normalization"));
}

#[test]
fn no_regularization_rule() {
    let a = run(&fixtures::spec_cnn_input());
    let f = finding(&a, "no_regularization");
    assert_eq!(f.evidence["limit"], 500_000);
    assert_eq!(f.evidence["params"], 1_405_258);

    let with_dropout = run(&spec_cnn_with(json!([
        {"type": "conv2d", "filters": 32, "kernel_size": 3},
        {"type": "maxpool", "pool_size": 2},
        {"type": "conv2d", "filters": 64, "kernel_size": 3},
        {"type": "dropout", "rate": 0.5},
        {"type": "dense", "units": 128},
        {"type": "output", "units": 10, "activation": "softmax"}
    ])));
    assert!(!has(&with_dropout, "no_regularization"));
    assert!(strength(&with_dropout, "regularization_present"));

    let mut with_decay = fixtures::spec_cnn_input();
    with_decay.architecture.as_mut().unwrap()["optimizer"] =
        json!({"name": "sgd", "weight_decay": 5e-4});
    assert!(!has(&run(&with_decay), "no_regularization"));

    // Small model: 235k params < 10 × 60,000 MNIST samples.
    let small = run(&req(
        json!({"input_shape": [784], "layers": [
            {"type": "dense", "units": 256, "activation": "relu"},
            {"type": "dense", "units": 128, "activation": "relu"},
            {"type": "output", "units": 10, "activation": "softmax"}
        ]}),
        Some("MNIST"),
        None,
    ));
    assert!(!has(&small, "no_regularization"));
    assert!(strength(&small, "capacity_fits_data"));

    // Sample count unknown: the 1M-parameter limit applies.
    let big = run(&req(
        json!({"input_shape": [2000], "layers": [{"type": "dense", "units": 600}]}),
        None,
        None,
    ));
    assert_eq!(
        finding(&big, "no_regularization").evidence["limit"],
        1_000_000
    );
}

#[test]
fn deep_plain_stack_rule() {
    let plain: Vec<Value> = (0..10)
        .map(|_| json!({"type": "dense", "units": 32, "activation": "relu"}))
        .collect();
    let a = run(&req(
        json!({"input_shape": [32], "layers": plain}),
        None,
        None,
    ));
    assert_eq!(
        finding(&a, "deep_plain_stack").evidence["weight_layers"],
        10
    );

    let mut residual = plain.clone();
    residual.insert(3, json!({"type": "add"}));
    let b = run(&req(
        json!({"input_shape": [32], "layers": residual}),
        None,
        None,
    ));
    assert!(!has(&b, "deep_plain_stack"));

    let eight: Vec<Value> = plain[..8].to_vec();
    let c = run(&req(
        json!({"input_shape": [32], "layers": eight}),
        None,
        None,
    ));
    assert!(!has(&c, "deep_plain_stack"));
}

#[test]
fn parameter_concentration_rule() {
    let a = run(&fixtures::spec_cnn_input());
    let f = finding(&a, "parameter_concentration");
    assert_eq!(f.evidence["layer"], 3);
    let share = f.evidence["share"].as_f64().unwrap();
    assert!((share - 1_384_576.0 / 1_405_258.0).abs() < 1e-12);
    assert!(f.title.contains("98.5%"));
    assert_eq!(f.severity, Severity::Medium);
    // Between 50% and 80%: flagged at low severity.
    let c = run(&req(
        json!({"input_shape": [64], "layers": [
            {"type": "dense", "units": 64}, {"type": "dense", "units": 100}
        ]}),
        None,
        None,
    ));
    assert_eq!(
        finding(&c, "parameter_concentration").severity,
        Severity::Low
    );

    // Three equal dense layers: 1/3 each.
    let b = run(&req(
        json!({"input_shape": [64], "layers": [
            {"type": "dense", "units": 64}, {"type": "dense", "units": 64}, {"type": "dense", "units": 64}
        ]}),
        None,
        None,
    ));
    assert!(!has(&b, "parameter_concentration"));
}

#[test]
fn output_class_mismatch_rule() {
    let bad = run(&spec_cnn_with(json!([
        {"type": "conv2d", "filters": 8, "kernel_size": 3},
        {"type": "global_avg_pool"},
        {"type": "output", "units": 5, "activation": "softmax"}
    ])));
    let f = finding(&bad, "output_class_mismatch");
    assert_eq!(f.evidence["output_units"], 5);
    assert_eq!(f.evidence["num_classes"], 10);
    assert!(bad
        .suggestions
        .iter()
        .any(|s| s.finding_id == "output_class_mismatch" && s.suggestion.contains("10 units")));

    let good = run(&fixtures::spec_cnn_input());
    assert!(!has(&good, "output_class_mismatch"));
    assert!(strength(&good, "output_matches_classes"));

    // Binary: one sigmoid unit for two classes is fine.
    let binary = run(&req(
        json!({"input_shape": [100], "layers": [
            {"type": "embedding", "input_dim": 5000, "output_dim": 16},
            {"type": "global_avg_pool"},
            {"type": "dense", "units": 1, "activation": "sigmoid"}
        ]}),
        Some("IMDB"),
        None,
    ));
    assert!(!has(&binary, "output_class_mismatch"));
}

#[test]
fn output_activation_rules() {
    let layers = |units: usize, act: Option<&str>| {
        let mut out = json!({"type": "output", "units": units});
        if let Some(a) = act {
            out["activation"] = json!(a);
        }
        json!([{"type": "conv2d", "filters": 8, "kernel_size": 3}, {"type": "gap"}, out])
    };
    let a = run(&spec_cnn_with(layers(1, Some("softmax"))));
    assert_eq!(finding(&a, "softmax_single_unit").severity, Severity::High);
    assert!(!has(
        &run(&spec_cnn_with(layers(10, Some("softmax")))),
        "softmax_single_unit"
    ));

    let b = run(&spec_cnn_with(layers(10, Some("sigmoid"))));
    assert_eq!(finding(&b, "sigmoid_multi_unit").severity, Severity::Medium);
    let mut multi = spec_cnn_with(layers(10, Some("sigmoid")));
    multi.model_description = Some("multi-label tagger".into());
    assert!(!has(&run(&multi), "sigmoid_multi_unit"));

    let c = run(&spec_cnn_with(layers(10, None)));
    assert_eq!(
        finding(&c, "missing_output_activation").severity,
        Severity::Info
    );
    assert!(!has(
        &run(&spec_cnn_with(layers(10, Some("softmax")))),
        "missing_output_activation"
    ));
    // A trailing softmax layer counts as the output activation.
    let d = run(&spec_cnn_with(json!([
        {"type": "conv2d", "filters": 8, "kernel_size": 3}, {"type": "gap"},
        {"type": "dense", "units": 10}, {"type": "activation", "activation": "softmax"}
    ])));
    assert!(!has(&d, "missing_output_activation"));
}

#[test]
fn spatial_collapse_rule_stops_shapes() {
    let a = run(&req(
        json!({"input_shape": [8, 8, 3], "layers": [
            {"type": "conv2d", "filters": 4, "kernel_size": 3},
            {"type": "maxpool", "pool_size": 2},
            {"type": "conv2d", "filters": 4, "kernel_size": 5},
            {"type": "flatten"},
            {"type": "dense", "units": 10}
        ]}),
        None,
        None,
    ));
    let f = finding(&a, "spatial_collapse");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["layer"], 2);
    // 8 → 6 → 3; floor((3 − 5)/1) + 1 = −1.
    assert_eq!(f.evidence["computed_output"], json!([-1, -1]));
    assert_eq!(shapes(&a)[1], Some(vec![3, 3, 4]));
    assert!(shapes(&a)[2..].iter().all(Option::is_none));
    // The conv's weights are still known; the dense layer's input is not.
    assert_eq!(a.layers[2].params, Some((5 * 5 * 4 + 1) * 4));
    assert_eq!(a.layers[4].params, None);
    assert!(!has(&a, "kernel_larger_than_input"));

    assert!(!has(&run(&fixtures::spec_cnn_input()), "spatial_collapse"));
}

#[test]
fn kernel_larger_than_input_rule() {
    let a = run(&req(
        json!({"input_shape": [4, 4, 3], "layers": [
            {"type": "conv2d", "filters": 4, "kernel_size": 5, "padding": "same"}
        ]}),
        None,
        None,
    ));
    assert_eq!(
        finding(&a, "kernel_larger_than_input").evidence["layers"][0]["kernel"],
        json!([5, 5])
    );
    assert_eq!(shapes(&a), vec![Some(vec![4, 4, 4])]);
    assert!(!has(
        &run(&fixtures::spec_cnn_input()),
        "kernel_larger_than_input"
    ));
}

#[test]
fn large_flatten_dense_rule_computes_savings() {
    let a = run(&fixtures::spec_cnn_input());
    let f = finding(&a, "large_flatten_dense");
    assert_eq!(f.evidence["flattened_features"], 10_816);
    assert_eq!(f.evidence["params_with_global_avg_pool"], 64 * 128 + 128);
    assert_eq!(f.evidence["params_saved"], 1_384_576 - 8_320);
    let s = a
        .suggestions
        .iter()
        .find(|s| s.finding_id == "large_flatten_dense")
        .unwrap();
    assert!(s.expected_improvement.contains("1376256"));
    assert!(s.basis.contains("Lin et al. 2013"));

    // A small map into a small dense layer is fine.
    let b = run(&req(
        json!({"input_shape": [6, 6, 8], "layers": [
            {"type": "maxpool", "pool_size": 3},
            {"type": "flatten"},
            {"type": "dense", "units": 10}
        ]}),
        None,
        None,
    ));
    assert!(!has(&b, "large_flatten_dense"));
}

#[test]
fn no_downsampling_rule() {
    let convs = |pool: bool| {
        let mut l = vec![
            json!({"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same"}),
            json!({"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same"}),
            json!({"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same"}),
            json!({"type": "gap"}),
            json!({"type": "output", "units": 10, "activation": "softmax"}),
        ];
        if pool {
            l.insert(1, json!({"type": "maxpool"}));
        }
        Value::Array(l)
    };
    let a = run(&spec_cnn_with(convs(false)));
    let f = finding(&a, "no_downsampling");
    assert_eq!(f.evidence["conv_layers"], 3);
    // (3·3·3·8 + 2·3·3·8·8)·32·32.
    assert_eq!(f.evidence["conv_macs"], (216 + 2 * 576) * 1024);
    let b = run(&spec_cnn_with(convs(true)));
    assert!(!has(&b, "no_downsampling"));
    assert!(strength(&b, "downsampling_present"));

    // A conv1d stack downsamples one axis: a stride-2 conv halves the later positions.
    let conv1d = json!({"type": "conv1d", "filters": 8, "kernel_size": 3, "padding": "same"});
    let text = run(&req(
        json!({"input_shape": [50], "layers": [
            {"type": "embedding", "input_dim": 100, "output_dim": 8},
            conv1d, conv1d, conv1d,
            {"type": "global_max_pool"},
            {"type": "output", "units": 2}
        ]}),
        None,
        None,
    ));
    assert_eq!(finding(&text, "no_downsampling").evidence["conv_layers"], 3);
    let s = text
        .suggestions
        .iter()
        .find(|s| s.finding_id == "no_downsampling")
        .unwrap();
    assert!(s.suggestion.contains("stride-2 conv1d"), "{}", s.suggestion);
    assert!(
        s.expected_improvement.contains("≈50%"),
        "{}",
        s.expected_improvement
    );
}

#[test]
fn dropout_rate_rule() {
    let with_rate = |rate: f64| {
        run(&req(
            json!({"input_shape": [10], "layers": [
                {"type": "dense", "units": 8}, {"type": "dropout", "rate": rate}, {"type": "dense", "units": 2}
            ]}),
            None,
            None,
        ))
    };
    assert_eq!(
        finding(&with_rate(0.9), "dropout_rate_out_of_range").severity,
        Severity::Medium
    );
    assert_eq!(
        finding(&with_rate(0.0), "dropout_rate_out_of_range").severity,
        Severity::Low
    );
    assert!(!has(&with_rate(0.5), "dropout_rate_out_of_range"));
    assert!(!has(&with_rate(0.8), "dropout_rate_out_of_range"));
}

#[test]
fn model_size_and_latency_limits() {
    let mut input = fixtures::spec_cnn_input();
    input.architecture.as_mut().unwrap()["max_model_size"] = json!("2MB");
    let a = run(&input);
    let f = finding(&a, "model_size_exceeds_limit");
    assert_eq!(f.evidence["max_model_size_mb"], 2.0);
    assert!(a
        .suggestions
        .iter()
        .any(|s| s.finding_id == "model_size_exceeds_limit"
            && s.expected_improvement.contains("1.41 MB")));
    input.architecture.as_mut().unwrap()["max_model_size"] = json!(10);
    assert!(!has(&run(&input), "model_size_exceeds_limit"));

    let mut slow = fixtures::spec_cnn_input();
    slow.performance_metrics.as_mut().unwrap()["max_latency"] = json!("10ms");
    assert_eq!(
        finding(&run(&slow), "latency_exceeds_budget").evidence["max_latency_ms"],
        10.0
    );
    slow.performance_metrics.as_mut().unwrap()["max_latency"] = json!("0.02 s");
    assert!(!has(&run(&slow), "latency_exceeds_budget"));
}

#[test]
fn incompatible_rank_rule() {
    let a = run(&req(
        json!({"input_shape": [10], "layers": [
            {"type": "dense", "units": 8},
            {"type": "conv2d", "filters": 4, "kernel_size": 3}
        ]}),
        None,
        None,
    ));
    let f = finding(&a, "incompatible_layer_input");
    assert_eq!(f.evidence["layers"][0]["layer"], 1);
    assert_eq!(a.layers[1].output_shape, None);
    assert!(!has(
        &run(&fixtures::spec_cnn_input()),
        "incompatible_layer_input"
    ));
}

#[test]
fn attention_heads_and_declared_sizes() {
    let a = run(&req(
        json!({"input_shape": [16, 64], "layers": [{"type": "mha", "heads": 5}]}),
        None,
        None,
    ));
    assert_eq!(
        finding(&a, "attention_heads_indivisible").evidence["layers"][0]["remainder"],
        4
    );
    assert!(a
        .suggestions
        .iter()
        .any(|s| s.suggestion.contains("4 heads of 16")));
    let ok = run(&req(
        json!({"input_shape": [16, 64], "layers": [{"type": "mha", "heads": 8}]}),
        None,
        None,
    ));
    assert!(!has(&ok, "attention_heads_indivisible"));

    let b = run(&req(
        json!({"input_shape": [784], "layers": [{"type": "linear", "in_features": 100, "out_features": 10}]}),
        None,
        None,
    ));
    let f = finding(&b, "declared_size_mismatch");
    assert_eq!(f.evidence["layers"][0]["computed"], 784);
    // Counts use the computed shape.
    assert_eq!(b.layers[0].params, Some(7_850));
    let c = run(&req(
        json!({"input_shape": [784], "layers": [{"type": "linear", "in_features": 784, "out_features": 10}]}),
        None,
        None,
    ));
    assert!(!has(&c, "declared_size_mismatch"));
    // With the input unknown, a declared size fills in.
    let d = run(&req(
        json!({"layers": [{"type": "linear", "in_features": 20, "out_features": 10}]}),
        None,
        None,
    ));
    assert_eq!(d.layers[0].params, Some(210));
}

#[test]
fn narrow_bottleneck_and_unstated_activation() {
    let a = run(&req(
        json!({"input_shape": [64], "layers": [
            {"type": "dense", "units": 4},
            {"type": "output", "units": 10, "activation": "softmax"}
        ]}),
        Some("10 classes"),
        None,
    ));
    assert_eq!(
        finding(&a, "narrow_bottleneck").evidence["layers"][0]["units"],
        4
    );
    assert_eq!(
        finding(&a, "unstated_hidden_activation").evidence["layers"],
        json!([0])
    );

    let b = run(&req(
        json!({"input_shape": [64], "layers": [
            {"type": "dense", "units": 32, "activation": "relu"},
            {"type": "output", "units": 10, "activation": "softmax"}
        ]}),
        Some("10 classes"),
        None,
    ));
    assert!(!has(&b, "narrow_bottleneck"));
    assert!(!has(&b, "unstated_hidden_activation"));
}

#[test]
fn input_shape_dataset_mismatch_rule() {
    let layers =
        json!([{"type": "flatten"}, {"type": "output", "units": 10, "activation": "softmax"}]);
    let a = run(&req(
        json!({"input_shape": [28, 28, 3], "layers": layers.clone()}),
        Some("MNIST"),
        None,
    ));
    assert_eq!(
        finding(&a, "input_shape_dataset_mismatch").severity,
        Severity::Medium
    );
    let resized = run(&req(
        json!({"input_shape": [32, 32, 1], "layers": layers.clone()}),
        Some("MNIST"),
        None,
    ));
    assert_eq!(
        finding(&resized, "input_shape_dataset_mismatch").severity,
        Severity::Info
    );
    let ok = run(&req(
        json!({"input_shape": [28, 28, 1], "layers": layers.clone()}),
        Some("MNIST"),
        None,
    ));
    assert!(!has(&ok, "input_shape_dataset_mismatch"));
    // 784 = 28·28·1: the images flattened.
    let flat = run(&req(
        json!({"input_shape": [784], "layers": layers}),
        Some("MNIST"),
        None,
    ));
    assert!(!has(&flat, "input_shape_dataset_mismatch"));
    assert!(flat.assumptions.iter().any(|s| s.contains("flattened")));
}

#[test]
fn augmentation_rule() {
    assert!(has(
        &run(&fixtures::spec_cnn_input()),
        "no_augmentation_mentioned"
    ));
    let mut input = fixtures::spec_cnn_input();
    input.data_sample =
        Some("CIFAR-10, 32x32 RGB, random crop and horizontal flip augmentation".into());
    assert!(!has(&run(&input), "no_augmentation_mentioned"));
    // Not an image task: the rule does not apply.
    let text = run(&req(
        json!({"input_shape": [100], "layers": [
            {"type": "embedding", "input_dim": 100, "output_dim": 8}, {"type": "gap"},
            {"type": "output", "units": 1, "activation": "sigmoid"}
        ]}),
        Some("IMDB"),
        None,
    ));
    assert!(!has(&text, "no_augmentation_mentioned"));
}

// ---------------------------------------------------------------- performance

fn perf(metrics: Value) -> Analysis {
    run(&req(
        json!({"layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3}, {"type": "gap"},
                          {"type": "output", "units": 10, "activation": "softmax"}]}),
        Some("CIFAR-10"),
        Some(metrics),
    ))
}

#[test]
fn spec_performance_analysis() {
    let a = run(&fixtures::spec_cnn_input());
    let p = &a.performance;
    assert_eq!(p.metrics.accuracy, Some(0.847));
    assert_eq!(p.metrics.inference_latency_ms, Some(12.0));
    assert_eq!(p.metrics.training_time_hours, Some(2.3));
    assert_eq!(p.overfitting_risk, "unknown (no validation metric given)");
    assert_eq!(p.convergence_quality, "converged well");
    let c = p.convergence.as_ref().unwrap();
    assert!((c.ratio - 0.423 / 10f64.ln()).abs() < 1e-12);
    let rc = p.reference.as_ref().unwrap();
    assert!((rc.points_below_best - 8.87).abs() < 1e-9);
    assert!(p
        .accuracy_assessment
        .contains("8.9 points below ResNet-110"));
    assert!(p.accuracy_assessment.contains("5.7 points above"));
    // 5,278,336 MACs in 12 ms.
    let g = p.compute.effective_gmacs_per_second.unwrap();
    assert!((g - 5_278_336.0 / 0.012 / 1e9).abs() < 1e-9);
}

#[test]
fn units_and_percentages_parse() {
    let a = perf(json!({
        "val_accuracy": "85%", "Train-Accuracy": 91.5, "latency": "1.5 s",
        "training_time": "1h 30min", "epochs": 20, "custom_metric": {"x": 1}
    }));
    let m = &a.performance.metrics;
    assert_eq!(m.val_accuracy, Some(0.85));
    assert!((m.train_accuracy.unwrap() - 0.915).abs() < 1e-12);
    assert_eq!(m.inference_latency_ms, Some(1500.0));
    assert_eq!(m.training_time_hours, Some(1.5));
    assert_eq!(m.epochs, Some(20));
    assert_eq!(m.other["custom_metric"], json!({"x": 1}));
    assert!(a
        .assumptions
        .iter()
        .any(|s| s.contains("read as a percentage")));
    // 50,000 samples × 20 epochs / 5400 s.
    let sps = a.performance.compute.training_samples_per_second.unwrap();
    assert!((sps - 1_000_000.0 / 5_400.0).abs() < 1e-9);

    let b = perf(json!({"inference_latency": 250, "training_time": "45 min"}));
    assert_eq!(b.performance.metrics.inference_latency_ms, Some(250.0));
    assert_eq!(b.performance.metrics.training_time_hours, Some(0.75));
    let c = perf(json!({"inference_latency": "800us", "training_time": 2}));
    assert!((c.performance.metrics.inference_latency_ms.unwrap() - 0.8).abs() < 1e-12);
    assert_eq!(c.performance.metrics.training_time_hours, Some(2.0));
}

#[test]
fn overfitting_thresholds() {
    let risk = |train: f64, val: f64| perf(json!({"accuracy": train, "val_accuracy": val}));
    let low = risk(0.90, 0.885);
    assert_eq!(low.performance.overfitting_risk, "low");
    assert!(!has(&low, "overfitting"));
    assert!(strength(&low, "small_generalization_gap"));
    let moderate = risk(0.90, 0.87);
    assert_eq!(moderate.performance.overfitting_risk, "moderate");
    assert_eq!(finding(&moderate, "overfitting").severity, Severity::Medium);
    let high = risk(0.99, 0.90);
    assert_eq!(high.performance.overfitting_risk, "high");
    assert_eq!(finding(&high, "overfitting").severity, Severity::High);
    let gap = high.performance.generalization_gap.as_ref().unwrap();
    assert!((gap.accuracy_gap.unwrap() - 0.09).abs() < 1e-12);

    // Classification (10 classes): the loss gap in units of ln(10) = 2.3026.
    let loss = |train: f64, val: f64| {
        perf(json!({"training_loss": train, "validation_loss": val}))
            .performance
            .overfitting_risk
    };
    assert_eq!(loss(0.20, 0.30), "low"); // 0.043
    assert_eq!(loss(0.20, 0.40), "moderate"); // 0.087
    assert_eq!(loss(0.20, 0.60), "high"); // 0.174
                                          // Tiny losses: +100% relative but 0.0065 of a uniform guess.
    assert_eq!(loss(0.015, 0.03), "low");
    // Without a class count the relative gap applies.
    let relative = |train: f64, val: f64| {
        run(&req(
            json!({"layers": []}),
            None,
            Some(json!({"train_loss": train, "val_loss": val})),
        ))
        .performance
        .overfitting_risk
    };
    assert_eq!(relative(0.20, 0.21), "low");
    assert_eq!(relative(0.20, 0.25), "moderate");
    assert_eq!(relative(0.20, 0.30), "high");
    // The worse of accuracy and loss applies.
    let both = perf(json!({"accuracy": 0.90, "val_accuracy": 0.895, "loss": 0.2, "val_loss": 0.8}));
    assert_eq!(both.performance.overfitting_risk, "high");
    let g = both
        .score
        .components
        .iter()
        .find(|c| c.name == "generalization")
        .unwrap();
    // min(1 − 0.005/0.10, 1 − (0.6/ln 10)/0.3) = 1 − 0.8686 = 0.1314.
    assert!((g.value.unwrap() - (1.0 - 0.6 / 10f64.ln() / 0.3)).abs() < 1e-9);
}

#[test]
fn convergence_thresholds() {
    let label = |loss: f64| perf(json!({"loss": loss})).performance.convergence_quality;
    // ln(10) = 2.3026: ratios 0.18, 0.65, 0.87, 1.09.
    assert_eq!(label(0.423), "converged well");
    assert_eq!(label(1.5), "partially converged");
    assert_eq!(label(2.0), "barely better than chance");
    assert_eq!(label(2.5), "no better than a uniform guess");
    assert_eq!(
        finding(&perf(json!({"loss": 2.5})), "poor_convergence").severity,
        Severity::High
    );
    assert_eq!(
        finding(&perf(json!({"loss": 2.0})), "poor_convergence").severity,
        Severity::Medium
    );
    assert_eq!(
        finding(&perf(json!({"loss": 1.5})), "poor_convergence").severity,
        Severity::Low
    );
    assert!(!has(&perf(json!({"loss": 0.4})), "poor_convergence"));
    // No class count: unknown.
    let a = run(&req(
        json!({"layers": []}),
        None,
        Some(json!({"loss": 0.4})),
    ));
    assert!(a.performance.convergence_quality.starts_with("unknown"));
}

#[test]
fn reference_rules() {
    let below = perf(json!({"test_accuracy": 0.70}));
    assert_eq!(
        finding(&below, "below_baseline_accuracy").severity,
        Severity::Medium
    );
    assert!(below
        .performance
        .accuracy_assessment
        .contains("9.0 points below the plain CNN baseline"));
    let above = perf(json!({"test_accuracy": 0.97}));
    assert!(has(&above, "accuracy_above_reference"));
    assert!(above.performance.accuracy_assessment.contains("leakage"));
    let middle = perf(json!({"test_accuracy": 0.85}));
    assert!(!has(&middle, "below_baseline_accuracy"));
    assert!(!has(&middle, "accuracy_above_reference"));
    assert_eq!(
        middle.performance.reference.as_ref().unwrap().metric,
        "test_accuracy"
    );

    // Each reference dataset resolves and cites a source.
    for (sample, best) in [
        ("MNIST", 0.9979),
        ("Fashion-MNIST", 0.963),
        ("CIFAR-100", 0.8115),
        ("ImageNet", 0.7613),
        ("IMDB", 0.9563),
    ] {
        let a = run(&req(
            json!({"layers": []}),
            Some(sample),
            Some(json!({"accuracy": 0.5})),
        ));
        let rc = a
            .performance
            .reference
            .as_ref()
            .unwrap_or_else(|| panic!("{sample}"));
        assert_eq!(rc.best.accuracy, best, "{sample}");
        assert!(rc.best.source.contains("20"), "{sample}");
    }
}

#[test]
fn no_reference_uses_chance_adjusted_accuracy() {
    let a = run(&req(
        json!({"layers": []}),
        Some("our own photos, 4 classes"),
        Some(json!({"accuracy": 0.625})),
    ));
    assert!(a.performance.reference.is_none());
    // (0.625 − 0.25) / 0.75 = 0.5.
    assert!(a
        .performance
        .accuracy_assessment
        .contains("chance-adjusted accuracy 0.5"));
    let c = a
        .score
        .components
        .iter()
        .find(|c| c.name == "performance_vs_reference")
        .unwrap();
    assert!((c.value.unwrap() - 0.5).abs() < 1e-12);
}

#[test]
fn regression_metrics_pass_through() {
    let mut input = req(
        json!({"input_shape": [8], "layers": [{"type": "dense", "units": 16}, {"type": "dense", "units": 1}]}),
        None,
        Some(json!({"mse": 0.25, "mae": "0.4", "r2": 0.81})),
    );
    input.model_description = Some("house price regression".into());
    let a = run(&input);
    assert_eq!(a.task, "regression");
    assert_eq!(a.performance.metrics.mse, Some(0.25));
    assert_eq!(a.performance.metrics.mae, Some(0.4));
    assert_eq!(a.performance.metrics.r2, Some(0.81));
    assert!(a
        .performance
        .notes
        .iter()
        .any(|n| n.contains("no reference applies")));
    assert!(a.performance.convergence_quality.contains("regression"));
    assert!(!has(&a, "missing_output_activation"));
}

// ---------------------------------------------------------------- score and suggestions

#[test]
fn score_is_bounded_and_documented() {
    let a = run(&fixtures::spec_cnn_input());
    assert!((0.0..=1.0).contains(&a.score.overall));
    let weights: f64 = a.score.components.iter().map(|c| c.weight).sum();
    assert!((weights - 1.0).abs() < 1e-12);
    let applied: f64 = a.score.components.iter().map(|c| c.applied_weight).sum();
    assert!((applied - 1.0).abs() < 1e-12);
    assert!(a.score.rubric.contains("design_hygiene 0.35"));
    // Generalization has no validation metric here.
    assert!((a.score.coverage - 0.8).abs() < 1e-12);
    // Hand check: hygiene 1 − 9/29, capacity 1 − log10(28.10516/10)/2, performance 0.847/0.9357.
    let expected = (0.35 * (1.0 - 9.0 / 29.0)
        + 0.15 * (1.0 - (1_405_258.0 / 50_000.0 / 10.0f64).log10() / 2.0)
        + 0.30 * (0.847 / 0.9357))
        / 0.8;
    assert!(
        (a.score.overall - expected).abs() < 1e-9,
        "{} vs {expected}",
        a.score.overall
    );
}

#[test]
fn score_moves_in_the_right_direction() {
    let base = run(&fixtures::spec_cnn_input()).score.overall;

    let with_bn = run(&spec_cnn_with(json!([
        {"type": "conv2d", "filters": 32, "kernel_size": 3},
        {"type": "batchnorm"},
        {"type": "maxpool", "pool_size": 2},
        {"type": "conv2d", "filters": 64, "kernel_size": 3},
        {"type": "batchnorm"},
        {"type": "dense", "units": 128},
        {"type": "output", "units": 10, "activation": "softmax"}
    ])))
    .score
    .overall;
    assert!(with_bn > base, "{with_bn} > {base}");

    let gap_head = run(&spec_cnn_with(json!([
        {"type": "conv2d", "filters": 32, "kernel_size": 3},
        {"type": "batchnorm"},
        {"type": "maxpool", "pool_size": 2},
        {"type": "conv2d", "filters": 64, "kernel_size": 3},
        {"type": "batchnorm"},
        {"type": "global_avg_pool"},
        {"type": "dropout", "rate": 0.3},
        {"type": "dense", "units": 128, "activation": "relu"},
        {"type": "output", "units": 10, "activation": "softmax"}
    ])))
    .score
    .overall;
    assert!(gap_head > with_bn, "{gap_head} > {with_bn}");

    let mut worse = fixtures::spec_cnn_input();
    worse.performance_metrics = Some(json!({"accuracy": 0.6, "loss": 0.423}));
    assert!(run(&worse).score.overall < base);

    let mut overfit = fixtures::spec_cnn_input();
    overfit.performance_metrics = Some(json!({"accuracy": 0.99, "val_accuracy": 0.847}));
    let mut fits = fixtures::spec_cnn_input();
    fits.performance_metrics = Some(json!({"accuracy": 0.86, "val_accuracy": 0.847}));
    assert!(run(&fits).score.overall > run(&overfit).score.overall);
}

#[test]
fn every_suggestion_points_at_a_finding_and_has_a_basis() {
    let a = run(&fixtures::spec_cnn_input());
    assert!(!a.suggestions.is_empty());
    for s in &a.suggestions {
        assert!(has(&a, &s.finding_id), "{}", s.finding_id);
        assert!(!s.basis.is_empty() && !s.expected_improvement.is_empty());
    }
    let bn = a
        .suggestions
        .iter()
        .find(|s| s.finding_id == "no_normalization")
        .unwrap();
    // 2 parameters per conv output channel: 2·(32 + 64).
    assert!(bn.expected_improvement.contains("+192 parameters"));
    assert!(bn.basis.contains("Ioffe & Szegedy 2015"));
    // The concentration finding's suggestion is covered by the flatten one.
    assert!(!a
        .suggestions
        .iter()
        .any(|s| s.finding_id == "parameter_concentration"));
}

#[test]
fn findings_are_sorted_by_severity_and_serialize() {
    let mut input = fixtures::spec_cnn_input();
    input.architecture = Some(json!({"layers": [
        {"type": "conv2d", "filters": 8, "kernel_size": 3}, {"type": "gap"},
        {"type": "output", "units": 5}
    ]}));
    let a = run(&input);
    let sev: Vec<Severity> = a.findings.iter().map(|f| f.severity).collect();
    let mut sorted = sev.clone();
    sorted.sort();
    assert_eq!(sev, sorted);
    let v = serde_json::to_value(&a).unwrap();
    for key in [
        "input_shape",
        "input_shape_source",
        "num_classes",
        "dataset",
        "layers",
        "totals",
        "assumptions",
        "findings",
        "strengths",
        "performance",
        "score",
        "suggestions",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["findings"][0]["severity"], "high");
    assert_eq!(v["layers"][1]["kind"], "global_avg_pool");
}

// ---------------------------------------------------------------- fixtures and cost

#[test]
fn deep_mlp_fixture_analyzes_in_linear_time() {
    let layers = fixtures::deep_mlp_layers(200);
    assert_eq!(layers.as_array().unwrap().len(), 200);
    let input = fixtures::deep_mlp_input(200);
    let start = std::time::Instant::now();
    let a = run(&input);
    let elapsed = start.elapsed();
    assert_eq!(a.layers.len(), 200);
    assert!(a.totals.params.is_some());
    assert!(!has(&a, "residual_shape_mismatch"), "{:?}", ids(&a));
    assert!(!has(&a, "deep_plain_stack"));
    assert!(!has(&a, "no_normalization"));
    // Generous bound for unoptimized test builds; release is far below 1 ms.
    assert!(elapsed.as_millis() < 200, "{elapsed:?}");
    // Stem 784·256 + 256, then per block 256·256 + 256 and batchnorm 512, output 2570.
    let blocks = a
        .layers
        .iter()
        .filter(|l| l.kind == LayerKind::BatchNorm)
        .count() as u64;
    let dense_hidden = a
        .layers
        .iter()
        .filter(|l| l.kind == LayerKind::Dense)
        .count() as u64
        - 1;
    assert_eq!(
        a.totals.params,
        Some(200_960 + dense_hidden * 65_792 + blocks * 512 + 2_570)
    );
}

/// Every layer of the 19 reference architectures against PyTorch, torchinfo and
/// `torch.utils.flop_counter` (`tests/fixtures/torch_reference`, with the script that made
/// it): shapes, parameters, `macs` = flop_counter FLOPs / 2, `torchinfo_mult_adds` =
/// torchinfo's per-layer mult-adds, and both totals.
#[test]
fn counts_match_torch_torchinfo_and_flop_counter_on_the_reference_architectures() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/torch_reference/layers.json"
    ))
    .unwrap();
    let archs = fixture["architectures"].as_array().unwrap();
    assert!(archs.len() >= 14);
    for a in archs {
        let name = a["name"].as_str().unwrap();
        let analysis = analyze(&AnalysisInput {
            model_description: Some(name.into()),
            architecture: Some(a["architecture"].clone()),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = a["layers"].as_array().unwrap();
        assert_eq!(analysis.layers.len(), want.len(), "{name}");
        for (got, want) in analysis.layers.iter().zip(want) {
            let at = format!("{name} layer {}", got.index);
            let shape: Vec<usize> = serde_json::from_value(want["output_shape"].clone()).unwrap();
            assert_eq!(got.output_shape.as_ref(), Some(&shape), "{at}: shape");
            assert_eq!(got.params, want["params"].as_u64(), "{at}: params");
            assert_eq!(
                got.macs,
                want["flop_counter_macs"].as_u64(),
                "{at}: flop_counter MACs"
            );
            assert_eq!(
                got.torchinfo_mult_adds,
                want["torchinfo_mult_adds"].as_u64(),
                "{at}: torchinfo mult-adds"
            );
        }
        let t = &a["totals"];
        assert_eq!(
            analysis.totals.params,
            t["torchinfo_total_params"].as_u64(),
            "{name}"
        );
        assert_eq!(
            analysis.totals.macs,
            t["flop_counter_macs"].as_u64(),
            "{name}"
        );
        assert_eq!(
            analysis.totals.torchinfo_mult_adds,
            t["torchinfo_total_mult_adds"].as_u64(),
            "{name}"
        );
        assert_eq!(
            analysis.totals.non_trainable_buffers,
            t["batchnorm_running_stat_buffers"].as_u64().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn the_spec_cnn_memory_breakdown() {
    let a = run(&req(
        json!({"input_shape": [32, 32, 3], "layers": [
            {"type": "conv2d", "filters": 32, "kernel_size": 3},
            {"type": "maxpool", "pool_size": 2},
            {"type": "conv2d", "filters": 64, "kernel_size": 3},
            {"type": "dense", "units": 128},
            {"type": "output", "units": 10, "activation": "softmax"}
        ]}),
        None,
        None,
    ));
    let m = a.memory.expect("every shape is known");
    // Outputs per sample: 30·30·32 + 15·15·32 + 13·13·64 + 128 + 10.
    assert_eq!(m.activations_per_sample, 28_800 + 7_200 + 10_816 + 128 + 10);
    assert_eq!(m.input_values_per_sample, 3_072);
    assert_eq!(m.parameters, 1_405_258);
    let t = &m.training;
    assert_eq!(t.parameters_bytes, 4 * 1_405_258);
    assert_eq!(t.optimizer_state_bytes, 8 * 1_405_258);
    assert_eq!(t.activations_bytes, 2 * 4 * 46_954 * 32);
    assert_eq!(
        t.total_bytes,
        16 * 1_405_258 + 2 * 4 * 46_954 * 32 + 4 * 3_072 * 32
    );
    assert_eq!(
        m.inference.total_bytes,
        4 * 1_405_258 + 4 * 46_954 + 4 * 3_072
    );
    // Unknown input: no breakdown rather than a guess.
    let unknown = run(&req(
        json!({"layers": [{"type": "dense", "units": 4}]}),
        None,
        None,
    ));
    assert!(unknown.memory.is_none());
}
