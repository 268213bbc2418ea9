//! Curated, sourced tables the builtin parts answer from when no provider does. Labelled
//! `builtin_curated` in responses: they are literature pointers, not measurements.

use crate::request::DataKind;

pub struct Sourced {
    pub name: &'static str,
    pub source: &'static str,
}

const fn s(name: &'static str, source: &'static str) -> Sourced {
    Sourced { name, source }
}

const AUGMENT_TEXT: &[Sourced] = &[
            s("paraphrasing", "Kumar et al. 2019, Submodular Optimization-based Diverse Paraphrasing, NAACL (arXiv:1904.09898)"),
            s("back_translation", "Sennrich et al. 2016, Improving NMT Models with Monolingual Data, ACL (arXiv:1511.06709)"),
            s("eda_synonym_swap_insert_delete", "Wei & Zou 2019, EDA, EMNLP (arXiv:1901.11196)"),
            s("contextual_word_substitution", "Kobayashi 2018, Contextual Augmentation, NAACL (arXiv:1805.06201)"),
];

const AUGMENT_IMAGE: &[Sourced] = &[
    s(
        "random_crop_horizontal_flip",
        "Krizhevsky et al. 2012, ImageNet Classification with Deep CNNs, NeurIPS",
    ),
    s(
        "randaugment",
        "Cubuk et al. 2020, RandAugment (arXiv:1909.13719)",
    ),
    s("mixup", "Zhang et al. 2018, mixup (arXiv:1710.09412)"),
    s("cutout", "DeVries & Taylor 2017, Cutout (arXiv:1708.04552)"),
];

const AUGMENT_TABULAR: &[Sourced] = &[
            s("gaussian_copula_synthesis", "Patki et al. 2016, The Synthetic Data Vault, IEEE DSAA (this API's engine)"),
            s("smote_minority_oversampling", "Chawla et al. 2002, SMOTE, JAIR 16"),
            s("gaussian_noise_injection", "Bishop 1995, Training with Noise is Equivalent to Tikhonov Regularization, Neural Computation"),
];

const AUGMENT_TIME_SERIES: &[Sourced] = &[
            s("jittering_and_scaling", "Um et al. 2017, Data Augmentation of Wearable Sensor Data (arXiv:1706.00527)"),
            s("window_slicing", "Le Guennec et al. 2016, Data Augmentation for Time Series Classification using CNNs, ECML/PKDD AALTD"),
            s("time_warping", "Um et al. 2017 (arXiv:1706.00527)"),
];

const AUGMENT_AUDIO: &[Sourced] = &[
    s(
        "specaugment",
        "Park et al. 2019, SpecAugment (arXiv:1904.08779)",
    ),
    s(
        "speed_perturbation",
        "Ko et al. 2015, Audio Augmentation for Speech Recognition, Interspeech",
    ),
    s(
        "background_noise_mixing",
        "Snyder et al. 2015, MUSAN corpus (arXiv:1510.08484)",
    ),
];

/// Augmentation strategies by data type.
pub fn augmentation(kind: DataKind) -> &'static [Sourced] {
    match kind {
        DataKind::Text => AUGMENT_TEXT,
        DataKind::Image => AUGMENT_IMAGE,
        DataKind::Tabular => AUGMENT_TABULAR,
        DataKind::TimeSeries => AUGMENT_TIME_SERIES,
        DataKind::Audio => AUGMENT_AUDIO,
    }
}

const TECHNIQUES_TEXT: &[Sourced] = &[
    s(
        "Layer-wise learning rate decay (discriminative fine-tuning) for transformer fine-tuning",
        "Howard & Ruder 2018, ULMFiT (arXiv:1801.06146); Sun et al. 2019 (arXiv:1905.05583)",
    ),
    s(
        "Continued pre-training on in-domain text before fine-tuning",
        "Gururangan et al. 2020, Don't Stop Pretraining (arXiv:2004.10964)",
    ),
    s(
        "Label smoothing",
        "Szegedy et al. 2016, Rethinking the Inception Architecture (arXiv:1512.00567)",
    ),
];

const TECHNIQUES_IMAGE: &[Sourced] = &[
    s(
        "Cosine learning-rate schedule with warm restarts",
        "Loshchilov & Hutter 2017, SGDR (arXiv:1608.03983)",
    ),
    s(
        "Fine-tuning an ImageNet-pretrained backbone",
        "Kornblith et al. 2019, Do Better ImageNet Models Transfer Better? (arXiv:1805.08974)",
    ),
    s("Label smoothing", "Szegedy et al. 2016 (arXiv:1512.00567)"),
];

const TECHNIQUES_TABULAR: &[Sourced] = &[
            s("Gradient-boosted trees as the baseline to beat", "Grinsztajn et al. 2022, Why do tree-based models still outperform deep learning on tabular data? (arXiv:2207.08815)"),
            s("Target encoding for high-cardinality categoricals", "Micci-Barreca 2001, SIGKDD Explorations 3(1)"),
            s("Early stopping on a held-out validation split", "Prechelt 1998, Early Stopping - But When?, Neural Networks: Tricks of the Trade"),
];

const TECHNIQUES_TIME_SERIES: &[Sourced] = &[
    s(
        "Seasonal-naive and ETS baselines with walk-forward validation",
        "Hyndman & Athanasopoulos, Forecasting: Principles and Practice, 3rd ed.",
    ),
    s(
        "Temporal Fusion Transformer for multi-horizon forecasts",
        "Lim et al. 2021 (arXiv:1912.09363)",
    ),
    s(
        "Gradient clipping for recurrent models",
        "Pascanu et al. 2013, On the difficulty of training RNNs (arXiv:1211.5063)",
    ),
];

const TECHNIQUES_AUDIO: &[Sourced] = &[
    s(
        "Self-supervised wav2vec 2.0 features",
        "Baevski et al. 2020 (arXiv:2006.11477)",
    ),
    s(
        "SpecAugment during training",
        "Park et al. 2019 (arXiv:1904.08779)",
    ),
];

/// Training techniques by data type, for research insights without a research provider.
pub fn techniques(kind: DataKind) -> &'static [Sourced] {
    match kind {
        DataKind::Text => TECHNIQUES_TEXT,
        DataKind::Image => TECHNIQUES_IMAGE,
        DataKind::Tabular => TECHNIQUES_TABULAR,
        DataKind::TimeSeries => TECHNIQUES_TIME_SERIES,
        DataKind::Audio => TECHNIQUES_AUDIO,
    }
}

/// Architecture advice by model family, when no layers were given to analyze.
pub fn architecture(description: &str) -> &'static [(&'static str, &'static str, &'static str)] {
    let d = description.to_ascii_lowercase();
    if d.contains("transformer") || d.contains("bert") || d.contains("attention") {
        &[
            ("normalization", "Pre-layer-normalization transformer blocks", "Xiong et al. 2020, On Layer Normalization in the Transformer (arXiv:2002.04745): trains without warm-up sensitivity"),
            ("positional_encoding", "Learned positional embeddings", "Devlin et al. 2019, BERT (arXiv:1810.04805)"),
            ("attention_mechanism", "Multi-head attention with head size 64 (heads = d_model / 64)", "Vaswani et al. 2017, Attention Is All You Need (arXiv:1706.03762)"),
        ]
    } else if d.contains("lstm")
        || d.contains("gru")
        || d.contains("rnn")
        || d.contains("recurrent")
    {
        &[
            (
                "regularization",
                "Dropout between stacked recurrent layers",
                "Zaremba et al. 2014, Recurrent Neural Network Regularization (arXiv:1409.2329)",
            ),
            (
                "training",
                "Gradient-norm clipping",
                "Pascanu et al. 2013 (arXiv:1211.5063)",
            ),
            (
                "architecture",
                "Bidirectional layers when the whole sequence is known",
                "Schuster & Paliwal 1997, IEEE Trans. Signal Processing",
            ),
        ]
    } else if d.contains("cnn") || d.contains("convolution") || d.contains("image") {
        &[
            (
                "normalization",
                "Batch normalization after each convolution",
                "Ioffe & Szegedy 2015 (arXiv:1502.03167)",
            ),
            (
                "architecture",
                "Residual connections for deeper stacks",
                "He et al. 2015, Deep Residual Learning (arXiv:1512.03385)",
            ),
            (
                "head",
                "Global average pooling instead of flatten + large dense",
                "Lin et al. 2013, Network in Network (arXiv:1312.4400)",
            ),
        ]
    } else {
        &[
            (
                "regularization",
                "Dropout and weight decay sized to the data",
                "Srivastava et al. 2014, Dropout, JMLR 15",
            ),
            (
                "normalization",
                "Batch or layer normalization between dense layers",
                "Ioffe & Szegedy 2015 (arXiv:1502.03167)",
            ),
        ]
    }
}
