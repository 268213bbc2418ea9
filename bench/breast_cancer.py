"""The table the SDV comparisons share: scikit-learn's breast-cancer data, as SDV sees it.

`setup(name)` makes target/bench-<name>/, writes the table there as CSV and answers
(data, path of the CSV, SDV metadata with the target categorical); `quality(data, sample,
metadata)` is SDMetrics' QualityReport score of a sample against the real rows.
"""
import os

from sklearn.datasets import load_breast_cancer
from sdmetrics.reports.single_table import QualityReport
from sdv.metadata import Metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = "breast_cancer"


def metadata_of(data):
    m = Metadata.detect_from_dataframes({TABLE: data})
    m.update_column(column_name="target", sdtype="categorical", table_name=TABLE)
    return m


def setup(name):
    out = os.path.join(ROOT, "target", f"bench-{name}")
    os.makedirs(out, exist_ok=True)
    data = load_breast_cancer(as_frame=True).frame
    data.columns = [c.replace(" ", "_") for c in data.columns]
    real_csv = os.path.join(out, f"{TABLE}.csv")
    data.to_csv(real_csv, index=False)
    return out, data, real_csv, metadata_of(data)


def quality(real, sample, metadata):
    report = QualityReport()
    report.generate(real, sample[real.columns], metadata.to_dict()["tables"][TABLE], verbose=False)
    return report.get_score()
